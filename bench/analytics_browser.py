"""Time from navigation to charts drawn, in Chromium, on the analytics page of the merchant
with 1,000,000 payments (``bench/analytics.py``'s database), for 90 days and 12 months.

The page marks ``performance.mark("paylinks-charts-drawn")`` when plotly.js has drawn every
chart (``dashboards/static/dashboards/analytics.js``); this reads that mark's time since
navigation start, beside the response's own timings (request sent to the last byte of the
HTML), for each of ``BENCH_BROWSER_RUNS`` page loads in a fresh browser context (after
two warm-ups; plotly.js comes from the HTTP cache after the first, as for a merchant who
opens the page every morning).

The site runs as in production: gunicorn (2 workers), ``DEBUG=false``, static files
collected and served by WhiteNoise, on 127.0.0.1.

    BENCH_ANALYTICS_REUSE=1 .venv/bin/python bench/analytics_browser.py [--write-docs]

Reuses a database that ``BENCH_KEEP_DB=1 make bench-analytics`` kept, or seeds one
(``seed_payments``, about 8 minutes for 1,000,000 payments). Writes the table into
docs/scaling.md between the ``bench-analytics-browser`` markers with ``--write-docs``.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.analytics import (  # noqa: E402
    Config,
    _admin,
    _env,
    _manage,
    api_token_key,
    log,
    prepare,
)

DOCS = ROOT / "docs" / "scaling.md"
BEGIN, END = "<!-- bench-analytics-browser:begin -->", "<!-- bench-analytics-browser:end -->"
RUNS = int(os.environ.get("BENCH_BROWSER_RUNS") or 15)
PERIODS = ("90d", "12m")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(cfg: Config, port: int) -> dict[str, str]:
    return {
        **_env(cfg),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PAYLINKS_REQUIRE_MFA": "false",
        "SECURE_COOKIES": "false",
    }


def owner_session(cfg: Config) -> tuple[str, int]:
    """A signed-in owner of the busiest merchant: (session cookie, merchant id)."""
    import django

    os.environ.update(_env(cfg))
    django.setup()
    from django.db.models import Count
    from django.test import Client

    from paylinks.models import Membership, Merchant, Role, User

    merchant = (
        Merchant.objects.annotate(n=Count("payments")).order_by("-n").first()
        if Merchant.objects.count() > 1
        else Merchant.objects.first()
    )
    assert merchant is not None, "the benchmark database has no merchant"
    user, _ = User.objects.get_or_create(email="bench-owner@paylinks.test")
    Membership.objects.get_or_create(user=user, merchant=merchant, defaults={"role": Role.OWNER})
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value, merchant.pk


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def measure(base: str, cookie: str, period: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {"drawn": [], "html": [], "json_kb": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
        page = context.new_page()
        for run in range(RUNS + 2):
            response = page.goto(f"{base}/admin/analytics/?period={period}")
            assert response is not None and response.ok, response and response.status
            page.wait_for_selector("[data-charts-drawn]", state="attached", timeout=60_000)
            timings = page.evaluate(
                """() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    const mark = performance.getEntriesByName('paylinks-charts-drawn')[0];
                    const data = document.getElementById('paylinks-charts-data');
                    return {drawn: mark.startTime, html: nav.responseEnd - nav.requestStart,
                            json: data.textContent.length};
                }"""
            )
            if run >= 2:  # two warm-ups
                found["drawn"].append(timings["drawn"])
                found["html"].append(timings["html"])
                found["json_kb"].append(timings["json"] / 1024)
        browser.close()
    return found


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))]


def report(results: dict[str, dict[str, list[float]]], info: str) -> str:
    lines = [
        info,
        "",
        "| Page | Navigation → charts drawn p50 / p95 ms | HTML response p50 / p95 ms"
        " | Chart JSON |",
        "|---|---|---|---|",
    ]
    for period, found in results.items():
        drawn, html = found["drawn"], found["html"]
        lines.append(
            f"| 1M: Analytics page, {period} | {statistics.median(drawn):.0f} / "
            f"{pct(drawn, 0.95):.0f} | {statistics.median(html):.0f} / {pct(html, 0.95):.0f} | "
            f"{statistics.median(found['json_kb']):.0f} KB |"
        )
    return "\n".join(lines)


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOCS.write_text(text[:start] + "\n" + table + "\n" + text[end:])


def main(*, write: bool = False) -> int:
    api_token_key()
    cfg = Config()
    prepare(cfg)
    port = free_port()
    env = server_env(cfg, port)
    _manage(cfg, "collectstatic", "--no-input", "-v", "0")
    cookie, merchant_id = owner_session(cfg)
    log(f"merchant {merchant_id}; gunicorn on 127.0.0.1:{port}")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict[str, dict[str, list[float]]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/static/theme/console.css")
        for period in PERIODS:
            log(f"== navigation to charts drawn, {period}")
            results[period] = measure(base, cookie, period)
    finally:
        server.terminate()
        server.wait(timeout=20)
        if not (cfg.keep or cfg.reuse):
            from django.db import connection

            connection.close()
            _admin(cfg, f"DROP DATABASE IF EXISTS {cfg.db} WITH (FORCE)")
    load = os.getloadavg()[0]
    info = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs, headless Chromium "
        f"at 1280x900, gunicorn with 2 workers and DEBUG=false on the same machine; {RUNS} "
        f"page loads per period after two warm-ups (plotly.js from the browser's cache); "
        f"load average {load:.1f} at the end (the machine is shared)."
    )
    table = report(results, info)
    print("\n" + table)
    if write:
        write_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(write="--write-docs" in sys.argv))
