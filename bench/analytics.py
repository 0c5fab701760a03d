"""The analytics benchmark: ``make bench-analytics`` (``bench/run.py --analytics``).

On PostgreSQL, in a database of its own (``BENCH_DB``), it seeds one merchant with a year
of 1,000,000 payments (``manage.py seed_payments``: COPY, then the rollups rebuilt), then
measures in this process, each figure beside a raw-SQL baseline timed in the same run:

1. the merchant's analytics for 30 days, 90 days and 12 months: ``dashboards.selectors
   .analytics`` plus every chart built and serialised (``dashboards.charts.page`` and
   ``page_json``): the server's work for the page, without the template. Baseline: one
   aggregate straight from the payments table for the same days (what the page's
   headline cost before rollups); target p95 <= 150 ms;
2. the same with an amount range (the one filter the rollups cannot answer: it reads the
   payments through their index);
3. the JSON the page sends, at 12 months of daily points (target <= 200 KB);
4. the support overview over every merchant, after adding more merchants until the
   database holds ``BENCH_ANALYTICS_TOTALS`` payments (default 3,000,000), with the
   merchant's 90-day page measured again at each size: flat cost as payments grow.
   Baseline: the per-merchant aggregate straight from payments. Target <= 500 ms;
5. what keeping the rollups exact costs a payment's change: ``payment_refresh`` of paid
   sandbox sessions with the rollup writes, against the same with them switched off.

Configuration (environment): BENCH_PG_URL, BENCH_DB (default paylinks_bench_analytics),
BENCH_ANALYTICS_PAYMENTS (1000000), BENCH_ANALYTICS_TOTALS (comma-separated totals for
the support overview, default 3000000), BENCH_ANALYTICS_RUNS (25 timed runs per figure),
BENCH_ANALYTICS_REUSE=1 (keep a seeded database from an earlier run and start from it;
the database is then kept, ``BENCH_KEEP_DB`` does the same for a fresh one).
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "scaling.md"
BEGIN, END = "<!-- bench-analytics:begin -->", "<!-- bench-analytics:end -->"
PY = sys.executable


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Config:
    pg_url: str = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
    db: str = os.environ.get("BENCH_DB", "paylinks_bench_analytics")
    payments: int = _int("BENCH_ANALYTICS_PAYMENTS", 1_000_000)
    totals: tuple[int, ...] = tuple(
        int(x) for x in (os.environ.get("BENCH_ANALYTICS_TOTALS") or "3000000").split(",") if x
    )
    runs: int = _int("BENCH_ANALYTICS_RUNS", 25)
    reuse: bool = os.environ.get("BENCH_ANALYTICS_REUSE", "0") == "1"
    keep: bool = os.environ.get("BENCH_KEEP_DB", "0") == "1"

    @property
    def url(self) -> str:
        return f"{self.pg_url.rstrip('/')}/{self.db}"


@dataclass
class Timing:
    name: str
    samples: list[float]
    extra: dict[str, Any] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def p99(self) -> float:
        return self.pct(99)

    def text(self) -> str:
        return f"{self.p50:.1f} / {self.p95:.1f} / {self.p99:.1f}"


@dataclass
class Row:
    scenario: str
    product: Timing
    baseline: Timing | None
    target: str
    passed: bool | None
    note: str = ""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure(name: str, work: Callable[[], Any], runs: int) -> Timing:
    work()  # warm: connections, compiled queries, the OS page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    timing = Timing(name, samples)
    log(f"  {name:<58} p50/p95/p99 {timing.text()} ms")
    return timing


# --- the database ------------------------------------------------------------------------
def _admin(cfg: Config, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{cfg.pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _exists(cfg: Config) -> bool:
    import psycopg

    with psycopg.connect(f"{cfg.pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg.db]).fetchone()
    return found is not None


def _env(cfg: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    key_file = ROOT / "var" / "bench" / f"{cfg.db}.key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        from cryptography.fernet import Fernet

        key_file.write_text(Fernet.generate_key().decode())
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        PAYLINKS_SKIP_DOTENV="1",
        DEBUG="false",
        DATABASE_URL=cfg.url,
        SECRET_KEY="bench-analytics-" + hashlib.sha256(cfg.db.encode()).hexdigest(),
        FIELD_ENCRYPTION_KEY=key_file.read_text().strip(),
        PAYLINKS_GATEWAY="sandbox",
        PAYLINKS_TASK_BACKEND="database",
        LOG_LEVEL="WARNING",
    )
    return env


def _manage(cfg: Config, *args: str) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=_env(cfg),
        check=True,
        capture_output=True,
        text=True,
    )
    log(f"  manage.py {' '.join(args)}: {time.perf_counter() - started:.0f} s")
    return done.stdout


def prepare(cfg: Config) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", cfg.db) or cfg.db in ("test", "postgres"):
        raise SystemExit(f"BENCH_DB={cfg.db!r}: use a dedicated database name")
    seeded: dict[str, Any] = {}
    if cfg.reuse and _exists(cfg):
        log(f"reusing database {cfg.db}")
        _manage(cfg, "migrate", "--no-input", "-v", "0")
        return seeded
    _admin(cfg, f"DROP DATABASE IF EXISTS {cfg.db} WITH (FORCE)")
    _admin(cfg, f"CREATE DATABASE {cfg.db}")
    _manage(cfg, "migrate", "--no-input", "-v", "0")
    log(f"seeding one merchant with {cfg.payments:,} payments over a year")
    out = _manage(
        cfg, "seed_payments", "--payments", str(cfg.payments), "--merchants", "1", "--seed", "1",
        "--force",
    )  # fmt: skip
    seeded["first"] = out.strip().splitlines()[-1]
    return seeded


# --- measurements ----------------------------------------------------------------------------
def _raw_page_baseline(merchant_id: int, start: datetime, end: datetime) -> Callable[[], Any]:
    """One aggregate of the merchant's payments in the period, straight from the table."""
    from django.db import connection

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT currency, status, COUNT(*), SUM(amount), SUM(amount_refunded) "
                "FROM paylinks_payment WHERE merchant_id = %s AND created_at >= %s "
                "AND created_at < %s GROUP BY 1, 2",
                [merchant_id, start, end],
            )
            return cursor.fetchall()

    return run


def _raw_support_baseline(start: datetime, end: datetime) -> Callable[[], Any]:
    from django.db import connection

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT merchant_id, currency, status, COUNT(*), SUM(amount) "
                "FROM paylinks_payment WHERE created_at >= %s AND created_at < %s "
                "GROUP BY 1, 2, 3",
                [start, end],
            )
            return cursor.fetchall()

    return run


def page_rows(cfg: Config, rows: list[Row], *, label: str = "") -> None:
    from dashboards import charts, selectors
    from paylinks.models import Merchant
    from paylinks.models.analytics import day_bounds

    merchant = Merchant.objects.filter(slug__startswith="seed-").order_by("pk").first()
    assert merchant is not None, "no seeded merchant"
    merchants = Merchant.objects.filter(pk=merchant.pk)
    light, dark = charts.themes()
    today = selectors.local_today(merchant.timezone)
    zone = selectors.zoneinfo.ZoneInfo(merchant.timezone)
    presets = ("30d", "90d", "12m") if not label else ("90d",)
    for preset in presets:
        period = selectors.period_for(preset, today=today)
        sizes: list[int] = []

        def page(period: Any = period, sizes: list[int] = sizes) -> None:
            data = selectors.analytics(merchants=merchants, period=period)
            sizes.append(len(charts.page_json(charts.page(data, light), dark).encode()))

        product = measure(f"analytics {preset}{label}: selectors + charts + JSON", page, cfg.runs)
        start, end = day_bounds(period.start, period.end, zone)
        baseline = measure(
            f"baseline {preset}{label}: one aggregate of the payments",
            _raw_page_baseline(merchant.pk, start, end),
            cfg.runs,
        )
        rows.append(
            Row(
                f"Analytics page, {preset}{label}",
                product,
                baseline,
                "p95 <= 150 ms",
                product.p95 <= 150,
                f"{period.days} days, {selectors.auto_bucket(period)} buckets, "
                f"JSON {max(sizes) / 1024:.0f} KB",
            )
        )
        if label:
            continue
        if preset == "90d":
            ranged = selectors.Filters(
                amount_min=selectors.Decimal(10), amount_max=selectors.Decimal(30)
            )
            product = measure(
                "analytics 90d, amount 10-30: selectors + charts",
                lambda period=period, ranged=ranged: charts.page(
                    selectors.analytics(merchants=merchants, period=period, filters=ranged), light
                ),
                max(5, cfg.runs // 5),
            )
            rows.append(
                Row(
                    "Analytics page, 90d, amount range",
                    product,
                    baseline,
                    "recorded (reads the payments index)",
                    None,
                    "the one filter the rollups cannot answer",
                )
            )
        if preset == "12m":
            data = selectors.analytics(merchants=merchants, period=period, bucket="day")
            size = len(charts.page_json(charts.page(data, light), dark).encode())
            timing = measure(
                "analytics 12m, daily buckets: selectors + charts + JSON",
                lambda period=period: charts.page_json(
                    charts.page(
                        selectors.analytics(merchants=merchants, period=period, bucket="day"), light
                    ),
                    dark,
                ),
                max(5, cfg.runs // 5),
            )
            rows.append(
                Row(
                    "Chart JSON, 12 months of daily points",
                    timing,
                    None,
                    "<= 200 KB per page",
                    size <= 200 * 1024,
                    f"{size / 1024:.0f} KB for {len(charts.page(data, light))} charts "
                    f"(time: selectors + charts + JSON)",
                )
            )


def home_rows(cfg: Config, rows: list[Row], *, label: str = "") -> None:
    """The console's home page data for the seeded merchant: the 30 days' totals and status
    counts, link states, recent links with their completed counts, recent payments. The
    baseline is the same page read from the payments (what it did before the rollups: two
    aggregates of the 30 days, a count of paid payments per link)."""
    from dashboards import selectors
    from paylinks.models import Merchant
    from paylinks.selectors.links import with_state

    merchant = Merchant.objects.filter(slug__startswith="seed-").order_by("pk").first()
    assert merchant is not None, "no seeded merchant"
    merchants = Merchant.objects.filter(pk=merchant.pk)

    def home() -> None:
        selectors.home_overview(merchants=merchants, zone=selectors.zone_of(merchants))
        selectors.recent_links(merchants=merchants)
        selectors.recent_payments(merchants=merchants)

    def raw() -> None:
        selectors.overview(merchants=merchants)
        list(
            with_state(selectors.links_of(merchants))
            .select_related("merchant")
            .order_by("-created_at", "-id")[:6]
        )
        selectors.recent_payments(merchants=merchants)

    product = measure(f"home page{label}: rollups and link counters", home, cfg.runs)
    baseline = measure(
        f"baseline home page{label}: the payments counted", raw, max(5, cfg.runs // 5)
    )
    rows.append(
        Row(
            f"Home page (30 days, recent links){label}",
            product,
            baseline,
            "recorded (was 430 ms warm at 1M)",
            None,
            "selectors only; baseline = the same figures counted from the payments",
        )
    )


def support_rows(cfg: Config, rows: list[Row], total: int) -> None:
    from dashboards import selectors
    from paylinks.models import Merchant
    from paylinks.models.analytics import day_bounds

    everyone = Merchant.objects.all()
    for preset in ("30d", "12m"):
        period = selectors.period_for(preset, today=selectors.local_today("UTC"))
        product = measure(
            f"support overview {preset} at {total:,}",
            lambda period=period: selectors.support_overview(merchants=everyone, period=period),
            cfg.runs,
        )
        start, end = day_bounds(period.start, period.end, selectors.zoneinfo.ZoneInfo("UTC"))
        baseline = measure(
            f"baseline support {preset} at {total:,}: aggregate of the payments",
            _raw_support_baseline(start, end),
            max(5, cfg.runs // 5),
        )
        rows.append(
            Row(
                f"Support overview, {preset}, {total / 1e6:g}M payments",
                product,
                baseline,
                "p95 <= 500 ms",
                product.p95 <= 500,
                f"{everyone.count()} merchants",
            )
        )


def rollup_write_cost(cfg: Config, rows: list[Row]) -> None:
    """``payment_refresh`` of paid sessions, with and without the rollup writes."""
    from django.db import transaction

    from paylinks.gateways import get_gateway
    from paylinks.gateways.sandbox import engine
    from paylinks.gateways.sandbox.cards import CARDS
    from paylinks.services import payments, rollups
    from paylinks.services.links import payment_link_create
    from paylinks.services.merchants import merchant_create

    get_gateway.cache_clear()
    merchant = merchant_create(name="Bench rollups", slug=f"bench-rollups-{int(time.time())}")
    link = payment_link_create(
        merchant=merchant, actor=None, title="Ticket", currency="EUR", amount=1500
    )
    customer = engine.Customer(email="reader@example.test", name="Ada Reader")
    runs = max(60, cfg.runs * 4)

    def paid() -> list[Any]:
        started = []
        for _ in range(runs + 1):
            s = payments.checkout_start(slug=link.slug, email="reader@example.test")
            engine.pay_with_card(
                s.session_id, card=CARDS["4242424242424242"], last4="4242", customer=customer
            )
            started.append(s.payment)
        return started

    def timed(name: str, batch: list[Any]) -> Timing:
        samples = []
        for payment in batch:
            begun = time.perf_counter()
            payments.payment_refresh(payment=payment)
            samples.append((time.perf_counter() - begun) * 1000)
        timing = Timing(name, samples[1:])
        log(f"  {name:<58} p50/p95/p99 {timing.text()} ms")
        return timing

    with_rollups = timed("payment_refresh (paid), rollups kept in its transaction", paid())
    original = rollups.payment_changed
    rollups.payment_changed = lambda payment: None  # type: ignore[assignment]
    try:
        without = timed("payment_refresh (paid), rollup writes switched off", paid())
    finally:
        rollups.payment_changed = original  # type: ignore[assignment]
    with transaction.atomic():
        rollups.rebuild(merchant=merchant)  # leave the rollups exact for what follows
    rows.append(
        Row(
            "A payment's change, rollups in its transaction",
            with_rollups,
            without,
            "recorded (checkout start writes no rollup)",
            None,
            f"+{with_rollups.p50 - without.p50:.2f} ms p50 per change that moves a figure",
        )
    )


def checkout_cost(cfg: Config, rows: list[Row]) -> None:
    """``checkout_start`` in-process (sandbox), with the analytics columns carried by the
    payments index (this branch) and with the index as it was, alternating rounds."""
    from django.db import connection

    from paylinks.gateways import get_gateway
    from paylinks.services import payments
    from paylinks.services.links import payment_link_create
    from paylinks.services.merchants import merchant_create

    get_gateway.cache_clear()
    merchant = merchant_create(name="Bench checkout", slug=f"bench-checkout-{int(time.time())}")
    link = payment_link_create(
        merchant=merchant, actor=None, title="Ticket", currency="EUR", amount=1500
    )
    wide = (
        "CREATE INDEX payment_merchant_created ON paylinks_payment (merchant_id, created_at DESC) "
        "INCLUDE (currency, amount, amount_refunded, status, link_id, payment_method_type, "
        "card_brand, failure_code)"
    )
    narrow = (
        "CREATE INDEX payment_merchant_created ON paylinks_payment (merchant_id, created_at DESC)"
    )

    def use(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX payment_merchant_created")
            cursor.execute(sql)

    samples: dict[str, list[float]] = {"wide": [], "narrow": []}
    rounds, per_round = 4, max(40, cfg.runs * 2)
    try:
        for n in range(rounds * 2):
            kind = "narrow" if n % 2 else "wide"
            use(narrow if kind == "narrow" else wide)
            for _ in range(per_round):
                begun = time.perf_counter()
                payments.checkout_start(slug=link.slug, email="reader@example.test")
                samples[kind].append((time.perf_counter() - begun) * 1000)
    finally:
        use(wide)
    product = Timing("checkout_start, analytics index", samples["wide"])
    baseline = Timing("checkout_start, index as before", samples["narrow"])
    for t in (product, baseline):
        log(f"  {t.name:<58} p50/p95/p99 {t.text()} ms")
    rows.append(
        Row(
            "Checkout start (in-process), the hot path",
            product,
            baseline,
            "recorded (no rollup write; a wider index)",
            None,
            f"{product.p50 - baseline.p50:+.2f} ms p50; {rounds} alternating rounds of "
            f"{per_round} each way",
        )
    )


# --- report ----------------------------------------------------------------------------------
def report(rows: list[Row], info: str) -> str:
    lines = [
        info,
        "",
        "| Scenario | Paylinks p50 / p95 / p99 ms | Baseline p50 / p95 / p99 ms | Target | Notes |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = "-" if r.passed is None else ("PASS" if r.passed else "FAIL")
        base = r.baseline.text() if r.baseline else "-"
        lines.append(
            f"| {r.scenario} | {r.product.text()} | {base} | {verdict} ({r.target}) | {r.note} |"
        )
    return "\n".join(lines)


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    if BEGIN not in text or END not in text:
        print(f"docs: no {BEGIN} ... {END} block in {DOCS}; not updated")
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    print(f"docs: analytics figures written to {DOCS.relative_to(ROOT)}")


def api_token_key() -> None:
    """Production settings need the merchant API's signing key: a throwaway one."""
    if os.environ.get("API_TOKEN_PRIVATE_KEY") or os.environ.get("API_TOKEN_PRIVATE_KEY_FILE"):
        return
    path = ROOT / "var" / "bench" / "api-token.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    os.environ["API_TOKEN_PRIVATE_KEY_FILE"] = str(path)


def main(*, write: bool = False) -> int:
    api_token_key()
    cfg = Config()
    started = time.perf_counter()
    seeded = prepare(cfg)
    os.environ.update(_env(cfg))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Max

    from paylinks.models import Merchant, Payment

    rows: list[Row] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a live database
            cursor.execute("SELECT version()")
            pg = cursor.fetchone()[0].split(" on ")[0]
        log("== the merchant's analytics page (in-process, no HTTP)")
        page_rows(cfg, rows)
        home_rows(cfg, rows)
        total = Payment.objects.count()
        log(f"== support overview at {total:,} payments")
        support_rows(cfg, rows, total)
        for target in cfg.totals:
            more = target - Payment.objects.count()
            if more <= 0:
                continue
            merchants = max(2, min(40, more // 100_000))
            seed = (Merchant.objects.aggregate(top=Max("pk"))["top"] or 0) + 100
            connection.close()
            log(f"adding {more:,} payments over {merchants} merchants")
            _manage(
                cfg, "seed_payments", "--payments", str(more), "--merchants", str(merchants),
                "--seed", str(seed), "--force",
            )  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            total = Payment.objects.count()
            log(f"== at {total:,} payments")
            support_rows(cfg, rows, total)
            page_rows(cfg, rows, label=f" at {total / 1e6:g}M")
            home_rows(cfg, rows, label=f" at {total / 1e6:g}M")
        log("== what keeping the rollups exact costs a payment's change")
        rollup_write_cost(cfg, rows)
        log("== what the analytics cost starting a checkout")
        checkout_cost(cfg, rows)
    finally:
        connection.close()
        if not (cfg.keep or cfg.reuse):
            _admin(cfg, f"DROP DATABASE IF EXISTS {cfg.db} WITH (FORCE)")
            log(f"dropped database {cfg.db}")
    import platform

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    load = os.getloadavg()[0]
    info = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs ({cpu}); {pg}; "
        f"{cfg.runs} timed runs per figure after a warm-up; load average {load:.1f} at the "
        f"end (the machine is shared). {seeded.get('first', '')}"
    ).strip()
    table = report(rows, info)
    print("\n" + "=" * 100 + "\nPaylinks analytics benchmark\n" + table + "\n" + "=" * 100)
    print(f"  run: {time.perf_counter() - started:.0f} s")
    if write:
        write_docs(table)
    failed = [r.scenario for r in rows if r.passed is False]
    if failed:
        print("  targets missed: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main(write="--write-docs" in sys.argv))
