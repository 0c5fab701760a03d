"""Screenshots of the console's API clients page and the API docs, desktop and phone.

Not a test: run it by hand after changing either page, then *look* at the images.

    .venv/bin/python tests/api/screenshots.py   # -> docs/screenshots/console-api-*, api-docs*

The same fresh world as tests/admin/screenshots.py (whose helpers it uses), plus three
API clients of Acme Books: two in use and one revoked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.admin.screenshots import (  # noqa: E402
    CHROMIUM_ARGS,
    OUT,
    free_port,
    seed,
    server_env,
    session_cookie,
    wait_for,
)

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def clients(alice: Any) -> None:
    from paylinks.models import ApiScope
    from paylinks.services.api_clients import api_client_create, api_client_revoke

    acme = alice.memberships.get().merchant
    api_client_create(
        merchant=acme,
        actor=alice,
        name="Shop backend",
        scopes=[ApiScope.LINKS_READ, ApiScope.LINKS_WRITE, ApiScope.PAYMENTS_READ],
    )
    api_client_create(
        merchant=acme,
        actor=alice,
        name="Accounting export",
        scopes=[ApiScope.PAYMENTS_READ, ApiScope.ANALYTICS_READ],
    )
    old = api_client_create(
        merchant=acme, actor=alice, name="Old warehouse sync", scopes=[ApiScope.LINKS_READ]
    )
    api_client_revoke(api_client=old.api_client, actor=alice)


def shoot(base: str, session: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        errors: list[str] = []

        def page_for(viewport: dict[str, int]) -> Any:
            context = browser.new_context(
                viewport=viewport, device_scale_factor=1, timezone_id="Europe/Copenhagen"
            )
            context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            return page

        def snap(page: Any, name: str, path: str | None = None, full: bool = False) -> None:
            if path is not None:
                response = page.goto(base + path)
                assert response is not None and response.ok, f"{path}: {response.status}"
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(400)
            target = OUT / f"{name}.png"
            page.screenshot(path=str(target), full_page=full)
            print(f"  {target.relative_to(ROOT)}")

        for suffix, viewport in (("", DESKTOP), ("-mobile", PHONE)):
            page = page_for(viewport)
            snap(page, f"console-api-clients{suffix}", "/admin/paylinks/apiclient/")
            page.goto(base + "/admin/paylinks/apiclient/add/")
            page.fill("#id_name", f"Mobile app{suffix}")
            page.check("input[name=scopes][value='links:read']")
            page.check("input[name=scopes][value='links:write']")
            page.click("button[name=_save]")
            page.wait_for_selector("[data-secret-page]")
            snap(page, f"console-api-client-secret{suffix}")
            snap(page, f"api-docs{suffix}", "/api/v1/docs/")
            page.locator("#operations-Payment_links-links_create").click()
            page.wait_for_timeout(500)
            snap(page, f"api-docs-operation{suffix}")
            page.context.close()
        browser.close()
    if errors:
        print("Browser errors:\n  " + "\n  ".join(errors))


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="paylinks-api-screens-"))
    env = server_env(workdir / "console.sqlite3")
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    data = seed()
    clients(data["alice"])
    session = session_cookie(data["alice"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "server.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        wait_for(base + "/static/theme/console.css")
        shoot(base, session)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
