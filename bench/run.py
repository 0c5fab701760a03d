#!/usr/bin/env python
"""Paylinks benchmarks: ``make bench``.

Starts real processes on this machine -- PostgreSQL (already running), gunicorn serving
Paylinks, a load generator in its own process, task workers -- and measures:

1. webhook ingestion: 10,000 signed Stripe-shaped events, 20% of them re-sent
   duplicates, posted concurrently to ``/webhooks/stripe/``; then the worker drains the
   inbox and the run checks that nothing was lost and no payment moved twice;
2. checkout creation through ``POST /api/v1/public/links/<slug>/checkout`` (sandbox);
3. the public link endpoint ``GET /api/v1/public/links/<slug>``, and the CPU one such
   read costs inside a worker process next to the floor's (bench/cpu.py: a figure the
   machine's other load moves far less than requests per second);
4. the Next.js ``/pay/[slug]`` page served by ``next start``, and its first-load JavaScript.

Every figure is printed beside two baselines measured in the same run, under the same
load generator: a bare Django view doing one INSERT (1, 2) or one primary-key SELECT (3),

- the **floor**: that view in a plain Django project (``bench/floor/``: what
  ``django-admin startproject`` generates, Django's default middleware, DEBUG off) served
  by its own gunicorn with the same workers, against its own database on the same
  PostgreSQL server. Paylinks / floor is the headline ratio: what everything Paylinks
  adds costs -- its middleware stack, DRF, its own work;
- the **in-stack baseline**: the same view inside Paylinks' gunicorn, behind Paylinks'
  middleware (``bench/settings.py``): Paylinks / in-stack is what the endpoint's own view
  costs, and in-stack / floor what the middleware stack costs.

Targets print as PASS/FAIL; the exit status is non-zero only when something was lost,
duplicated or answered with an error. Everything it starts is stopped, and its databases
are dropped, at the end. See docs/scaling.md for the figures and what they mean.

Configuration (environment variables, all optional):

    BENCH_PG_URL      postgres://postgres@127.0.0.1:5432   server to create the database on
    BENCH_DB          paylinks_bench         database (dropped and re-created, then dropped);
                                             the floor's is BENCH_DB + "_floor"
    BENCH_KEEP_DB     0                      1: keep the database afterwards, for inspection
    BENCH_PORT        8600                   gunicorn's port on 127.0.0.1
    BENCH_FLOOR_PORT  BENCH_PORT + 1         the floor project's gunicorn
    BENCH_WORKERS     2 x CPUs               gunicorn sync workers
    BENCH_LOADGEN     auto                   auto | wrk | python (duration runs; see below)
    BENCH_CONNECTIONS 16                     concurrent connections, checkout and link runs
    BENCH_ROUNDS      3                      link run: rounds of floor, in-stack, Paylinks
    BENCH_CLIENTS     4096                   client addresses (X-Forwarded-For) the link and
                                             page runs spread over: the per-IP read limit
                                             (300/min) is on, as in production
    BENCH_WEBHOOK_CONNECTIONS 32             concurrent connections, webhook run
    BENCH_DURATION    10                     seconds measured per duration run
    BENCH_WARMUP      3                      seconds of warm-up before each duration run
    BENCH_EVENTS      10000                  webhook posts (distinct + duplicates)
    BENCH_DUPLICATES  0.2                    share of those posts that are re-sent events
    BENCH_LINKS       8                      payment links the checkout run spreads over
    BENCH_DRAIN_WORKERS 2                    db_worker processes draining the inbox
    BENCH_PROFILE     (unset)                path to py-spy: sample the server during each
                                             Paylinks run (and the floor's primary-key
                                             run) into var/bench/profile-*.txt and
                                             print where the time goes (slows the server:
                                             figures from such a run are not comparable)

The webhook run always uses the Python load generator (bench/loadgen.py): it sends each
distinct body once, in order, and checks every answer. The checkout and link runs use wrk
when it is installed (``apt-get install wrk``) and the Python generator otherwise; the
report says which.

    python bench/run.py [--write-docs]    --write-docs: put the figures into docs/scaling.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import merchant_api  # noqa: E402
from loadgen import build_request, write_requests  # noqa: E402

PY = sys.executable
KEPT_ENV = {
    "DJANGO_SETTINGS_MODULE", "DEBUG", "DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY",
    "STRIPE_WEBHOOK_SECRET", "SITE_URL", "LOG_LEVEL",
}  # fmt: skip
CPUS = os.cpu_count() or 1
DOCS = ROOT / "docs" / "scaling.md"
RESULTS = ROOT / "var" / "bench" / "last-run.json"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


@dataclass
class Config:
    pg_url: str = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
    db: str = os.environ.get("BENCH_DB", "paylinks_bench")
    keep_db: bool = os.environ.get("BENCH_KEEP_DB", "0") == "1"
    port: int = env_int("BENCH_PORT", 8600)
    floor_port: int = env_int("BENCH_FLOOR_PORT", env_int("BENCH_PORT", 8600) + 1)
    # Sync workers, two per core: a request's Python work is CPU-bound and holds the GIL,
    # so threads in one process add nothing but contention (measured: gthread is slower
    # here); a second process per core keeps the CPU busy while the first waits on a
    # PostgreSQL commit or row lock. More workers only add context switches on 2 cores
    # that PostgreSQL and the load generator share. See docs/scaling.md.
    workers: int = env_int("BENCH_WORKERS", 2 * CPUS)
    loadgen: str = os.environ.get("BENCH_LOADGEN", "auto")
    connections: int = env_int("BENCH_CONNECTIONS", 16)
    rounds: int = env_int("BENCH_ROUNDS", 3)
    clients: int = env_int("BENCH_CLIENTS", 4096)
    webhook_connections: int = env_int("BENCH_WEBHOOK_CONNECTIONS", 32)
    duration: float = env_float("BENCH_DURATION", 10)
    warmup: float = env_float("BENCH_WARMUP", 3)
    events: int = env_int("BENCH_EVENTS", 10000)
    duplicates: float = env_float("BENCH_DUPLICATES", 0.2)
    links: int = env_int("BENCH_LINKS", 8)
    drain_workers: int = env_int("BENCH_DRAIN_WORKERS", 2)
    half_close: bool = os.environ.get("BENCH_HALF_CLOSE", "1") == "1"
    seed: int = env_int("BENCH_SEED", 20240601)

    @property
    def database_url(self) -> str:
        return f"{self.pg_url.rstrip('/')}/{self.db}"

    @property
    def floor_db(self) -> str:
        return f"{self.db}_floor"

    @property
    def floor_database_url(self) -> str:
        return f"{self.pg_url.rstrip('/')}/{self.floor_db}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# --- processes --------------------------------------------------------------------------
class Processes:
    """Everything this run starts, so it can all be stopped, by pid, whatever happens."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, **kwargs)
        self.running.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(self.running):
            self.stop(proc)


PROFILES = ROOT / "var" / "bench"


class Profiler:
    """py-spy, attached to a running process tree for the length of one measurement."""

    def __init__(self, binary: str, procs: Processes) -> None:
        self.binary = binary
        self.procs = procs

    def start(self, name: str, pid: int) -> tuple[subprocess.Popen[bytes], Path]:
        PROFILES.mkdir(parents=True, exist_ok=True)
        out = PROFILES / f"profile-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.txt"
        args = [
            self.binary, "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
            "--rate", "250", "--format", "raw", "--output", str(out), "--duration", "3600",
        ]  # fmt: skip
        proc = self.procs.start(
            "py-spy", args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(1.0)  # let it attach to every process before the load starts
        return proc, out

    def finish(self, handle: tuple[subprocess.Popen[bytes], Path]) -> None:
        proc, out = handle
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.procs.running = [(n, p) for n, p in self.procs.running if p is not proc]
        if out.exists():
            print(summarise_profile(out), flush=True)


def summarise_profile(path: Path, top: int = 22) -> str:
    """Inclusive share of samples per function (each counted once per stack), for the
    frames that say where a request's time goes: Paylinks, the ORM, the driver, DRF."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        seen = set()
        for frame in stack.split(";"):
            key = re.sub(r":\d+\)$", ")", frame)
            key = re.sub(r"\(/[^)]*?/(site-packages|main)/", "(", key)
            if key not in seen:
                seen.add(key)
                inclusive[key] += n
    interesting = re.compile(
        r"\((paylinks|bench|django/db|django/core/handlers|rest_framework|psycopg|stripe|"
        r"django_tasks_db|django/middleware|django/contrib|axes|allauth|whitenoise)"
    )
    lines = [f"  profile {path.relative_to(ROOT)} ({total} samples): inclusive share"]
    shown = 0
    for frame, n in inclusive.most_common():
        if interesting.search(frame):
            lines.append(f"    {100 * n / total:5.1f}%  {frame}")
            shown += 1
            if shown >= top:
                break
    return "\n".join(lines)


def child_env(cfg: Config, secrets_: dict[str, str]) -> dict[str, str]:
    # Never inherited: what the benchmark keeps at its production default.
    dropped = (
        "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PAYLINKS_RATE_PUBLIC_IP", "PAYLINKS_REQUIRE_MFA",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PAYLINKS_SKIP_DOTENV="1",
        DEBUG="false",
        DATABASE_URL=cfg.database_url,
        PAYLINKS_GATEWAY="sandbox",
        PAYLINKS_TASK_BACKEND="database",
        # Protections as in production. The per-IP limit on public reads stays at its
        # default; the link and page runs spread their requests over BENCH_CLIENTS
        # addresses in X-Forwarded-For behind one trusted proxy (as the checkout page
        # sends them), so every read pays the limiter and none is refused. The checkout
        # limits are off: 120 checkouts/min per link (the card-testing defence) is the
        # point of that limit, and a throughput run over 8 links must exceed it.
        PAYLINKS_TRUSTED_PROXIES="1",
        PAYLINKS_RATE_CHECKOUT_IP="",
        PAYLINKS_RATE_CHECKOUT_LINK="",
        SITE_URL=cfg.base_url,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **merchant_api.ENV,
        **secrets_,
    )
    return env


def floor_env(cfg: Config, secrets_: dict[str, str]) -> dict[str, str]:
    """The floor project's environment: its settings module and database, nothing of
    Paylinks' configuration (bench/floor/settings.py reads only these two)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
        and not k.startswith("PAYLINKS_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.floor.settings",
        FLOOR_DATABASE_URL=cfg.floor_database_url,
        SECRET_KEY=secrets_["SECRET_KEY"],
        PYTHONUNBUFFERED="1",
    )
    return env


# --- CPU accounting ---------------------------------------------------------------------
CLK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command, CPU seconds so far) for every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / CLK)
    return table


def _machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK, sum(values) / CLK


class CpuMeter:
    """CPU seconds used by gunicorn (master + workers), PostgreSQL and everything else
    between ``start()`` and ``stop()``; the load generator's own time comes from rusage."""

    def __init__(self, gunicorn_pid: int) -> None:
        self.gunicorn_pid = gunicorn_pid

    def start(self) -> None:
        self.before = _proc_table()
        self.busy_before, _ = _machine_busy()
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.t0 = time.perf_counter()

    def stop(self, loadgen_cpu: float | None = None) -> dict[str, float]:
        after = _proc_table()
        busy = _machine_busy()[0] - self.busy_before
        elapsed = time.perf_counter() - self.t0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        waited = (children.ru_utime + children.ru_stime) - (
            self.children.ru_utime + self.children.ru_stime
        )
        loadgen = waited if loadgen_cpu is None else loadgen_cpu
        used = {"gunicorn": 0.0, "postgres": 0.0}
        for pid, (ppid, comm, cpu) in after.items():
            # Per process, so one that exits in between (a closed connection's backend)
            # does not count negative; what it used before exiting lands in "other".
            previous = self.before.get(pid)
            spent = cpu - previous[2] if previous and previous[1] == comm else cpu
            if pid == self.gunicorn_pid or ppid == self.gunicorn_pid:
                used["gunicorn"] += spent
            elif comm.startswith("postgres"):
                used["postgres"] += spent
        # Shares of the whole machine (100% = every core busy for the whole run).
        capacity = elapsed * CPUS
        shares = {k: v / capacity for k, v in used.items()}
        shares["loadgen"] = loadgen / capacity
        shares["other"] = max(0.0, busy / capacity - sum(shares.values()))
        shares["idle"] = max(0.0, 1 - busy / capacity)
        return shares


# --- measurements -----------------------------------------------------------------------
@dataclass
class Measurement:
    name: str
    engine: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    non_2xx: int
    socket_errors: int
    status: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    def line(self) -> str:
        cpu = ", ".join(f"{k} {v:.0%}" for k, v in self.cpu.items()) if self.cpu else "-"
        return (
            f"    {self.name:<34} {self.rps:8.1f} req/s  p50 {self.p50:6.1f}  p95 {self.p95:6.1f}"
            f"  p99 {self.p99:6.1f} ms  n={self.requests} in {self.seconds:.1f}s"
            f"  non-2xx {self.non_2xx}  socket errors {self.socket_errors}  [{self.engine},"
            f" {self.connections} conns]\n      CPU (share of {CPUS} cores): {cpu}"
        )


WRK_REPORT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50": %.3f, "p95": %.3f, "p99": %.3f, ' ..
    '"mean": %.3f, "max": %.3f}\n',
    summary.requests, summary.duration, n, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


@dataclass
class HttpLoad:
    """One kind of request, run by wrk or by bench/loadgen.py for a fixed time."""

    method: str
    paths: list[str]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Spread the requests over this many client addresses (X-Forwarded-For), as
    #: customers behind the checkout page; 0: every request from the load generator's own.
    clients: int = 0


def client_address(n: int) -> str:
    """The n-th (1-based) client address of a run: 10.0.0.1, 10.0.0.2, ..."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def wrk_script(load: HttpLoad) -> str:
    """wrk's Lua script for ``load``: its method, body and headers, the paths in turn,
    each request from the next client address when ``load.clients`` is set, and the
    report ``run_wrk`` reads."""
    lua = [f"wrk.method = {_lua_string(load.method)}"]
    if load.body:
        lua.append(f"wrk.body = {_lua_string(load.body.decode())}")
    for key, value in load.headers.items():
        lua.append(f"wrk.headers[{_lua_string(key)}] = {_lua_string(value)}")
    paths = ", ".join(_lua_string(p) for p in load.paths)
    lua.append(f"local paths = {{{paths}}}\nlocal i = 0\nlocal n = 0")
    if load.clients:
        # Each request from the next address: 10.x.y.z, as client_address() makes them.
        lua.append(
            "function request()\n  i = i % #paths + 1\n"
            f"  n = n % {load.clients} + 1\n"
            '  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",'
            " math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)\n"
            "  return wrk.format(nil, paths[i])\nend"
        )
    else:
        lua.append(
            "function request()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend"
        )
    return "\n".join(lua) + WRK_REPORT


def loadgen_requests(load: HttpLoad, host: str) -> list[bytes]:
    """The requests bench/loadgen.py cycles through for ``load``: one per path, or one per
    client address (each with its own X-Forwarded-For) when ``load.clients`` is set."""
    if not load.clients:
        return [
            build_request(load.method, p, host=host, body=load.body, headers=load.headers)
            for p in load.paths
        ]
    return [
        build_request(
            load.method, load.paths[(n - 1) % len(load.paths)], host=host, body=load.body,
            headers={**load.headers, "X-Forwarded-For": client_address(n)},
        )
        for n in range(1, load.clients + 1)
    ]  # fmt: skip


class Bench:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.procs = Processes()
        self.tmp = Path(tempfile.mkdtemp(prefix="paylinks-bench-"))
        self.secrets = {
            "SECRET_KEY": secrets.token_urlsafe(48),
            # Shared with the checkout page, which then counts its visits in batches.
            "PAYLINKS_CHECKOUT_TOKEN": secrets.token_urlsafe(32),
            "FIELD_ENCRYPTION_KEY": "",
            "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
        }
        self.env: dict[str, str] = {}
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.floor: subprocess.Popen[bytes] | None = None
        #: The public link run's measurement the report shows (the median round).
        self.public_link: Measurement | None = None
        self.rows: list[dict[str, Any]] = []
        self.measurements: list[Measurement] = []
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.engine = self._choose_engine()
        self.db_created = False
        self.pg_version = "PostgreSQL (unknown)"
        self.slugs: list[str] = []
        self.row_pk = 0
        self.floor_row_pk = 0
        self.webhook_body_bytes = 0.0
        binary = os.environ.get("BENCH_PROFILE", "")
        self.profiler = Profiler(binary, self.procs) if binary else None

    # -- setup ---------------------------------------------------------------------------
    def _choose_engine(self) -> str:
        wanted = self.cfg.loadgen
        has_wrk = shutil.which("wrk") is not None
        if wanted == "wrk" and not has_wrk:
            raise SystemExit("BENCH_LOADGEN=wrk but wrk is not installed (apt-get install wrk)")
        if wanted == "python" or not has_wrk:
            return "python"
        return "wrk"

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.cfg.pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.cfg.db) or self.cfg.db in (
            "test",
            "postgres",
        ):
            raise SystemExit(f"BENCH_DB={self.cfg.db!r}: use a dedicated database name")
        for name in (self.cfg.db, self.cfg.floor_db):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self._admin(f"CREATE DATABASE {name}")
        self.db_created = True

    def drop_database(self) -> None:
        if self.db_created and not self.cfg.keep_db:
            for name in (self.cfg.db, self.cfg.floor_db):
                self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self.log(f"dropped databases {self.cfg.db} and {self.cfg.floor_db}")
        elif self.db_created:
            # The data is encrypted with this run's throwaway keys: keep them beside it.
            env_file = RESULTS.parent / "env.sh"
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            env_file.write_text(
                "".join(
                    f"export {k}={shlex.quote(v)}\n"
                    for k, v in sorted(self.env.items())
                    if k in KEPT_ENV or k.startswith("PAYLINKS_")
                )
            )
            self.log(
                f"kept databases {self.cfg.db} and {self.cfg.floor_db} (BENCH_KEEP_DB=1): "
                f"`. {env_file.relative_to(ROOT)}` to use the first with manage.py; "
                f"`dropdb -h 127.0.0.1 -U postgres NAME` for each"
            )

    def setup(self) -> None:
        from cryptography.fernet import Fernet

        self.secrets["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
        self.env = child_env(self.cfg, self.secrets)
        os.environ.update(self.env)
        os.environ.pop("REDIS_URL", None)
        self.log(f"creating database {self.cfg.db} and migrating")
        self.create_database()
        subprocess.run(
            [PY, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self.setup_floor()
        import django

        django.setup()
        self.seed()

    def setup_floor(self) -> None:
        """Migrate the floor project's database (startproject's apps and the baseline
        table) and give it the same 1,000 rows the in-stack baseline reads."""
        import psycopg

        self.log(f"migrating the floor project's database {self.cfg.floor_db}")
        subprocess.run(
            [PY, "-m", "django", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=floor_env(self.cfg, self.secrets),
            check=True,
        )
        with psycopg.connect(self.cfg.floor_database_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO bench_baseline_benchrow (label, body, created_at)"
                " SELECT 'row ' || n, repeat('x', 200), now() FROM generate_series(0, 999) n"
            )
            found = conn.execute(
                "SELECT id FROM bench_baseline_benchrow ORDER BY id OFFSET 500 LIMIT 1"
            ).fetchone()
            assert found is not None
            self.floor_row_pk = found[0]
            conn.execute("ANALYZE")

    def seed(self) -> None:
        from django.db import connection

        from bench.baseline.models import BenchRow
        from paylinks.services.links import payment_link_create
        from paylinks.services.merchants import merchant_create

        merchant = merchant_create(
            name="Bench Books",
            slug="bench-books",
            support_email="help@bench-books.test",
            brand_color="#1D4ED8",
        )
        self.slugs = [
            payment_link_create(
                merchant=merchant,
                actor=None,
                title=f"Field guide, volume {n + 1}",
                description="A hardback field guide, shipped within two working days.",
                currency="USD",
                amount=2500 + 100 * n,
                collect_name=True,
            ).slug
            for n in range(self.cfg.links)
        ]
        BenchRow.objects.bulk_create(
            [BenchRow(label=f"row {n}", body="x" * 200) for n in range(1000)]
        )
        self.row_pk = BenchRow.objects.order_by("pk").values_list("pk", flat=True)[500]
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            self.pg_version = cursor.fetchone()[0].split(" on ")[0]
            cursor.execute("ANALYZE")
        connection.close()

    def start_gunicorn(self) -> None:
        """Paylinks' gunicorn, and the floor project's beside it with the same options."""
        self.gunicorn = self._serve("gunicorn", "project.wsgi:application", self.cfg.port, self.env)
        self.floor = self._serve(
            "gunicorn (floor)",
            "bench.floor.wsgi:application",
            self.cfg.floor_port,
            floor_env(self.cfg, self.secrets),
        )

    def _serve(
        self, name: str, app: str, port: int, env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        log_path = self.tmp / f"{re.sub(r'[^a-z]+', '-', name)}.log"
        log = log_path.open("wb")
        args = [
            PY, "-m", "gunicorn", app,
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(self.cfg.workers),
            "--worker-class", "sync",
            "--backlog", "2048",
            "--timeout", "60",
            "--log-level", "warning",
        ]  # fmt: skip
        proc = self.procs.start(name, args, cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.time() + 120  # a busy machine starts Django slowly
        while time.time() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited; see {log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/ping", timeout=2) as r:
                    if r.status == 200:
                        self.log(f"{name} up: {' '.join(args[3:])}")
                        return proc
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{name} did not start within 120 s")

    # -- load generation -----------------------------------------------------------------
    def _meter(self, port: int | None = None) -> CpuMeter:
        """CPU of the server under load: the floor's gunicorn when ``port`` is its port,
        Paylinks' otherwise (also for a run against another server, e.g. next start)."""
        server = self.floor if port == self.cfg.floor_port else self.gunicorn
        assert server is not None
        return CpuMeter(server.pid)

    def run_python(
        self, name: str, requests: list[bytes], *, connections: int, duration: float = 0,
        warmup: float = 0, per_request: bool = False, profile: bool = False,
        port: int | None = None,
    ) -> tuple[Measurement, dict[str, Any]]:  # fmt: skip
        req_file = self.tmp / f"{re.sub(r'\W+', '-', name)}.req"
        out_file = req_file.with_suffix(".json")
        write_requests(req_file, requests)
        args = [
            PY, str(ROOT / "bench" / "loadgen.py"), "--port", str(port or self.cfg.port),
            "--connections", str(connections), "--requests", str(req_file),
            "--out", str(out_file), "--duration", str(duration), "--warmup", str(warmup),
        ]  # fmt: skip
        if per_request:
            args.append("--per-request")
        if self.cfg.half_close:
            args.append("--half-close")
        spy = self._profile(name, port) if profile else None
        meter = self._meter(port)
        meter.start()
        proc = self.procs.start("loadgen", args, cwd=ROOT)
        proc.wait()
        self.procs.running = [(n, p) for n, p in self.procs.running if p is not proc]
        if spy and self.profiler:
            self.profiler.finish(spy)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed for {name}")
        raw = json.loads(out_file.read_text())
        cpu = meter.stop(raw["loadgen_cpu_s"])
        lat = raw["latency_ms"]
        m = Measurement(
            name=name,
            engine="python",
            connections=connections,
            requests=raw["requests"],
            seconds=raw["elapsed_s"],
            rps=raw["rps"],
            p50=lat["p50"],
            p95=lat["p95"],
            p99=lat["p99"],
            mean=lat["mean"],
            max=lat["max"],
            non_2xx=raw["non_2xx"] - sum(raw["socket_errors"].values()),
            socket_errors=sum(raw["socket_errors"].values()),
            status=raw["status"],
            cpu=cpu,
        )
        return m, raw

    def _profile(
        self, name: str, port: int | None = None
    ) -> tuple[subprocess.Popen[bytes], Path] | None:
        server = self.floor if port == self.cfg.floor_port else self.gunicorn
        if self.profiler is None or server is None:
            return None
        return self.profiler.start(name, server.pid)

    def run_wrk(
        self, name: str, load: HttpLoad, *, connections: int, duration: float,
        profile: bool = False, port: int | None = None,
    ) -> Measurement:  # fmt: skip
        script = self.tmp / f"{re.sub(r'\W+', '-', name)}.lua"
        script.write_text(wrk_script(load))
        args = [
            "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
            "-s", str(script), f"http://127.0.0.1:{port or self.cfg.port}" + load.paths[0],
        ]  # fmt: skip
        spy = self._profile(name, port) if profile else None
        meter = self._meter(port)
        meter.start()
        proc = self.procs.start("wrk", args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = proc.communicate()
        self.procs.running = [(n, p) for n, p in self.procs.running if p is not proc]
        cpu = meter.stop()
        if spy and self.profiler:
            self.profiler.finish(spy)
        text = output.decode()
        match = re.search(r"BENCH_JSON (\{.*\})", text)
        if proc.returncode != 0 or not match:
            raise RuntimeError(f"wrk failed for {name}:\n{text}")
        raw = json.loads(match.group(1))
        seconds = raw["duration_us"] / 1e6
        return Measurement(
            name=name,
            engine="wrk",
            connections=connections,
            requests=raw["requests"],
            seconds=seconds,
            rps=raw["requests"] / seconds,
            p50=raw["p50"],
            p95=raw["p95"],
            p99=raw["p99"],
            mean=raw["mean"],
            max=raw["max"],
            non_2xx=raw["non_2xx"],
            socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
            cpu=cpu,
        )

    def timed(
        self, name: str, load: HttpLoad, *, connections: int | None = None,
        profile: bool = False, port: int | None = None,
    ) -> Measurement:  # fmt: skip
        """Warm up, then measure ``load`` for BENCH_DURATION seconds (on gunicorn, or on
        another server of this run listening on ``port``)."""
        conns = connections or self.cfg.connections
        duration, warmup = self.cfg.duration, self.cfg.warmup
        if self.engine == "wrk":
            if warmup > 0:
                self.run_wrk(
                    name + " (warm-up)", load, connections=conns, duration=warmup, port=port
                )
            m = self.run_wrk(
                name, load, connections=conns, duration=duration, profile=profile, port=port
            )
        else:
            host = f"127.0.0.1:{port or self.cfg.port}"
            requests = loadgen_requests(load, host)
            m, _ = self.run_python(
                name,
                requests,
                connections=conns,
                duration=duration,
                warmup=warmup,
                profile=profile,
                port=port,
            )
        self.measurements.append(m)
        self.log(m.line().strip())
        return m

    # -- bookkeeping ---------------------------------------------------------------------
    def row(
        self, title: str, product: Measurement | None, baseline: Measurement | None,
        *, floor: Measurement | None = None, unit: str, target: str, passed: bool | None,
        note: str = "",
    ) -> None:  # fmt: skip
        """One line of the report: ``ratio`` is Paylinks / the floor (the headline),
        ``stack_ratio`` Paylinks / the in-stack baseline."""
        self.rows.append(
            {
                "title": title,
                "unit": unit,
                "product": product,
                "floor": floor,
                "baseline": baseline,
                "ratio": _ratio(product, floor),
                "stack_ratio": _ratio(product, baseline),
                "target": target,
                "passed": passed,
                "note": note,
            }
        )

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.failures.append(what)
        return ok

    def check_errors(self, *measurements: Measurement) -> None:
        for m in measurements:
            self.check(
                m.errors == 0,
                f"{m.name}: {m.non_2xx} non-2xx, {m.socket_errors} socket errors {m.status}",
            )


def _ratio(product: Measurement | None, base: Measurement | None) -> float | None:
    return product.rps / base.rps if product and base and base.rps else None


# --- scenario 2: checkout creation ------------------------------------------------------
CHECKOUT_BODY = json.dumps({"email": "reader@example.test"}).encode()


def scenario_checkout(b: Bench) -> None:
    from paylinks.models import Payment

    b.log("== checkout creation: POST /api/v1/public/links/<slug>/checkout (sandbox gateway)")
    headers = {"Content-Type": "application/json"}
    insert = HttpLoad("POST", ["/bench/insert"], body=CHECKOUT_BODY, headers=headers)
    floor = b.timed("floor: one INSERT (POST)", insert, port=b.cfg.floor_port)
    baseline = b.timed("in-stack baseline: one INSERT (POST)", insert)
    paths = [f"/api/v1/public/links/{slug}/checkout" for slug in b.slugs]
    product = b.timed(
        "checkout creation",
        HttpLoad("POST", paths, body=CHECKOUT_BODY, headers=headers),
        profile=True,
    )
    b.check_errors(floor, baseline, product)
    # Every 201 must be a payment with a sandbox session: nothing half-created. wrk stops
    # with requests still in flight; gunicorn finishes them, so give them a moment.
    deadline = time.monotonic() + 10
    while (incomplete := Payment.objects.filter(gateway_session_id="").count()) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.5)
    payments = Payment.objects.count()
    b.check(incomplete == 0, f"checkout: {incomplete} payments without a gateway session")
    b.check(
        payments >= product.requests, f"checkout: {payments} payments < {product.requests} answers"
    )
    product.extra["payments_in_db"] = payments
    b.row(
        "Checkout creation",
        product,
        baseline,
        floor=floor,
        unit="checkouts/s",
        target=">= 200 checkouts/s",
        passed=product.rps >= 200,
        note=f"{len(b.slugs)} links, fixed price, sandbox gateway",
    )


# --- scenario 1: webhook ingestion ------------------------------------------------------
# Fields a real Stripe object carries that the sandbox leaves out; the bench adds them so
# bodies are as large as Stripe's (pretty-printed, 2-4 KB), never changing what is there.
STRIPE_EXTRAS: dict[str, dict[str, Any]] = {
    "checkout.session": {
        "after_expiration": None,
        "allow_promotion_codes": None,
        "automatic_tax": {"enabled": False, "status": None},
        "consent": None,
        "consent_collection": None,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer_creation": "if_required",
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "locale": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "recovered_from": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_details": None,
        "shipping_options": [],
        "submit_type": None,
        "subscription": None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    },
    "payment_intent": {
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "customer": None,
        "description": None,
        "invoice": None,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
    },
    "charge": {
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "billing_details": {
            "address": {
                "city": None,
                "country": "DE",
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": "reader@example.test",
            "name": "Ada Reader",
            "phone": None,
        },
        "calculated_statement_descriptor": "BENCH BOOKS",
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "invoice": None,
        "on_behalf_of": None,
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "receipt_email": None,
        "receipt_number": None,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
    },
}


def stripe_body(payload: dict[str, Any]) -> bytes:
    obj = payload["data"]["object"]
    extras = STRIPE_EXTRAS.get(obj.get("object", ""), {})
    full = {**payload, "data": {"object": {**extras, **obj}}}
    # Stripe sends its events pretty-printed, two spaces.
    return json.dumps(full, indent=2).encode()


def pay_sessions(b: Bench, needed_distinct: int) -> tuple[list[int], dict[str, int]]:
    """Pay enough open sandbox sessions through the sandbox engine (cards settle at once,
    SEPA debits complete unpaid and settle later) to owe ``needed_distinct`` events.

    Returns the paid payments' ids and the number of events of each type the engine owes.
    """
    from django.db import connection
    from django.utils import timezone

    from paylinks.gateways.sandbox import engine
    from paylinks.gateways.sandbox.cards import CARDS, IBANS
    from paylinks.gateways.sandbox.models import SandboxEvent, SandboxPaymentIntent
    from paylinks.models import Payment
    from paylinks.services import payments as payment_services

    # A card payment owes 3 events, a SEPA debit 5 (2 of them move the payment).
    pairs = -(-needed_distinct // 8)
    open_payments = list(
        Payment.objects.filter(status="pending")
        .exclude(gateway_session_id="")
        .order_by("pk")
        .values_list("pk", "gateway_session_id")[: 2 * pairs]
    )
    while len(open_payments) < 2 * pairs:  # the checkout run made too few: make more
        started = payment_services.checkout_start(
            slug=b.slugs[len(open_payments) % len(b.slugs)], email="reader@example.test"
        )
        open_payments.append((started.payment.pk, started.session_id))
    card = CARDS["4242424242424242"]
    iban = IBANS["DE89370400440532013000"]
    customer = engine.Customer(email="reader@example.test", name="Ada Reader")
    sepa_sessions = []
    for n, (_, session_id) in enumerate(open_payments):
        if n % 2 == 0:
            engine.pay_with_card(session_id, card=card, last4="4242", customer=customer)
        else:
            engine.pay_with_sepa(session_id, iban=iban, last4="3000", customer=customer)
            sepa_sessions.append(session_id)
    later = timezone.now() + timedelta(hours=1)
    for intent_id in SandboxPaymentIntent.objects.filter(session_id__in=sepa_sessions).values_list(
        "pk", flat=True
    ):
        engine.settle(intent_id, now=later)
    types = Counter(SandboxEvent.objects.values_list("type", flat=True))
    connection.close()
    return [pk for pk, _ in open_payments], dict(types)


def build_webhook_posts(
    b: Bench,
) -> tuple[list[bytes], list[bytes], list[str], list[bytes], list[bytes]]:
    """The signed webhook requests: each distinct event once plus interleaved re-sends.

    Returns (product requests, the same bodies for the baseline, the event id of each
    request, warm-up requests, warm-up baseline requests).
    """
    from django.db import connection

    from paylinks.gateways.sandbox.delivery import sign
    from paylinks.gateways.sandbox.models import SandboxEvent

    rng = random.Random(b.cfg.seed)
    events = list(SandboxEvent.objects.order_by("created_at").values_list("pk", "payload"))
    connection.close()
    rng.shuffle(events)  # Stripe promises no order: completed may arrive after settled
    distinct = len(events)
    dups = round(distinct * b.cfg.duplicates / (1 - b.cfg.duplicates))
    keyed: list[tuple[float, int]] = [(float(i), i) for i in range(distinct)]
    for n in range(dups):
        source = rng.randrange(distinct)
        # Half are re-sent at once (racing the original on another connection), half later.
        offset = rng.randint(1, 32) if n % 2 == 0 else rng.randint(1, distinct)
        keyed.append((source + offset + rng.random() / 2, source))
    keyed.sort()
    secret = b.secrets["STRIPE_WEBHOOK_SECRET"]
    host = f"127.0.0.1:{b.cfg.port}"
    bodies = [stripe_body(payload) for _, payload in events]
    b.webhook_body_bytes = sum(len(x) for x in bodies) / len(bodies)

    def post(path: str, body: bytes) -> bytes:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(body.decode(), secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return build_request("POST", path, host=host, body=body, headers=headers)

    product = [post("/webhooks/stripe/", bodies[i]) for _, i in keyed]
    baseline = [post("/bench/insert", bodies[i]) for _, i in keyed]
    ids = [events[i][0] for _, i in keyed]
    warm_bodies = [
        json.dumps(
            {
                "id": f"evt_bench_warmup_{n:05d}",
                "object": "event",
                "api_version": "2023-08-16",
                "created": int(time.time()),
                "data": {"object": {"id": f"cus_bench{n:05d}", "object": "customer"}},
                "livemode": False,
                "type": "customer.created",
            },
            indent=2,
        ).encode()
        for n in range(300)
    ]
    warm = [post("/webhooks/stripe/", body) for body in warm_bodies]
    warm_base = [post("/bench/insert", body) for body in warm_bodies]
    return product, baseline, ids, warm, warm_base


def drain(b: Bench) -> float:
    """Run the task workers until the queue is empty; returns the seconds it took."""
    from django.db import connection
    from django.db.models import Max
    from django_tasks_db.models import DBTaskResult

    # db_worker --batch stops when nothing is due: wait until the web processes' last
    # deferred inbox wake-ups (at most one batch window away) are due.
    last = DBTaskResult.objects.filter(status="READY").aggregate(Max("run_after"))["run_after__max"]
    connection.close()
    if last is not None and last.year < 9999:
        time.sleep(max(0.0, (last - datetime.now(UTC)).total_seconds()) + 0.1)
    started = time.perf_counter()
    # --skip-checks: see setup(); -v 0: one log line per task would cost more than the task.
    command = [PY, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--interval", "0"]
    workers = [
        b.procs.start(
            f"db_worker {n}",
            [*command, "--worker-id", f"bench-drain-{n}", "-v", "0", "--skip-checks"],
            cwd=ROOT,
            env=b.env,
        )
        for n in range(b.cfg.drain_workers)
    ]
    spy = b.profiler.start("webhook processing", workers[0].pid) if b.profiler else None
    for proc in workers:
        proc.wait()
        b.procs.running = [(n, p) for n, p in b.procs.running if p is not proc]
        b.check(proc.returncode == 0, f"db_worker exited with {proc.returncode}")
    elapsed = time.perf_counter() - started
    if spy and b.profiler:
        b.profiler.finish(spy)
    return elapsed


def scenario_webhooks(b: Bench) -> None:
    from django.db import connection
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from paylinks.models import Payment, PaymentEvent, WebhookEvent

    cfg = b.cfg
    distinct_wanted = round(cfg.events * (1 - cfg.duplicates))
    b.log(f"== webhook ingestion: paying sandbox sessions to owe {distinct_wanted} events")
    t0 = time.perf_counter()
    paid, types = pay_sessions(b, distinct_wanted)
    b.log(f"paid {len(paid)} sessions in {time.perf_counter() - t0:.1f}s; events owed: {types}")
    # The load generator plays the sandbox's delivery worker: drop the sandbox's own
    # delivery and settlement tasks so the drain below runs only webhook processing.
    DBTaskResult.objects.all().delete()
    product_reqs, baseline_reqs, ids, warm, warm_base = build_webhook_posts(b)
    distinct = len(set(ids))
    connection.close()
    b.log(
        f"{len(product_reqs)} posts: {distinct} distinct events + "
        f"{len(product_reqs) - distinct} re-sent, mean body {b.webhook_body_bytes:.0f} bytes"
    )
    conns = cfg.webhook_connections
    # The same bytes go to the floor (its URLconf has the same /bench/insert; the Host
    # header names 127.0.0.1, which both servers allow).
    floor_port = cfg.floor_port
    b.run_python("floor warm-up", warm_base, connections=conns, port=floor_port)
    floor, _ = b.run_python(
        "floor: one INSERT (POST)", baseline_reqs, connections=conns, port=floor_port
    )
    b.measurements.append(floor)
    b.log(floor.line().strip())
    b.run_python("baseline warm-up", warm_base, connections=conns)
    baseline, _ = b.run_python(
        "in-stack baseline: one INSERT (POST)", baseline_reqs, connections=conns
    )
    b.measurements.append(baseline)
    b.log(baseline.line().strip())
    warm_m, _ = b.run_python("webhook warm-up", warm, connections=conns)
    b.check_errors(warm_m)
    product, raw = b.run_python(
        "webhook ingestion", product_reqs, connections=conns, per_request=True, profile=True
    )
    b.measurements.append(product)
    b.log(product.line().strip())
    b.check_errors(floor, baseline, product)

    # -- every answer: exactly one "stored" per distinct event, the rest "duplicate" ----
    stored = Counter(
        event_id
        for event_id, status, dup in zip(
            ids, raw["per_request"]["status"], raw["per_request"]["duplicate"], strict=True
        )
        if 200 <= status < 300 and dup == 0
    )
    acked_twice = sum(1 for n in stored.values() if n > 1)
    never_stored = distinct - len(stored)
    b.check(acked_twice == 0, f"webhooks: {acked_twice} events answered 'stored' twice")
    b.check(never_stored == 0, f"webhooks: {never_stored} events never answered 'stored'")

    # -- the inbox: every distinct event exactly once -----------------------------------
    expected = set(ids)
    inbox = Counter(
        WebhookEvent.objects.filter(gateway="sandbox", event_id__in=expected).values_list(
            "event_id", flat=True
        )
    )
    lost = len(expected - set(inbox))
    doubled = sum(1 for n in inbox.values() if n > 1)
    b.check(lost == 0, f"webhooks: {lost} events lost (not in the inbox)")
    b.check(doubled == 0, f"webhooks: {doubled} events stored more than once")

    # -- processing: drain the worker, then one transition per paid payment -------------
    queued = WebhookEvent.objects.filter(status="pending").count()
    wakeups = DBTaskResult.objects.count()
    connection.close()
    b.log(
        f"draining {queued} inbox events ({wakeups} drain_inbox wake-ups queued by "
        f"{cfg.events} posts) with {cfg.drain_workers} db_worker processes"
    )
    drain_s = drain(b)
    unfinished = WebhookEvent.objects.filter(status__in=["pending", "failed"]).count()
    # Follow-up work a payment's success queues (the receipt e-mail) may still be waiting
    # when the inbox is empty: the drain measures the inbox. Only a failed task counts.
    failed_tasks = DBTaskResult.objects.filter(status="FAILED").count()
    statuses = Counter(WebhookEvent.objects.values_list("status", flat=True))
    b.check(unfinished == 0, f"webhooks: {unfinished} inbox events unprocessed or failed")
    not_done = Counter(
        DBTaskResult.objects.exclude(status="SUCCESSFUL").values_list("task_path", "status")
    )
    b.check(failed_tasks == 0, f"webhooks: {failed_tasks} tasks failed: {dict(not_done)}")
    if not_done:
        b.log(f"tasks not finished when the inbox was empty (not failed): {dict(not_done)}")
    succeeded_events = Counter(
        PaymentEvent.objects.filter(
            payment_id__in=paid, kind="status_changed", to_status="succeeded"
        ).values_list("payment_id", flat=True)
    )
    double = sum(1 for n in succeeded_events.values() if n > 1)
    missing = len(paid) - len(succeeded_events)
    not_succeeded = Payment.objects.filter(pk__in=paid).exclude(status="succeeded").count()
    repeated = (
        PaymentEvent.objects.filter(kind="status_changed")
        .values("payment_id", "to_status")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    b.check(double == 0, f"webhooks: {double} payments moved to succeeded more than once")
    b.check(missing == 0, f"webhooks: {missing} paid payments never moved to succeeded")
    b.check(not_succeeded == 0, f"webhooks: {not_succeeded} paid payments are not succeeded")
    b.check(repeated == 0, f"webhooks: {repeated} (payment, status) transitions repeated")
    connection.close()
    drain_rate = queued / drain_s if drain_s else 0.0
    product.extra.update(
        distinct=distinct,
        resent=len(product_reqs) - distinct,
        stored_rate=distinct / product.seconds,
        lost=lost,
        stored_twice=doubled + acked_twice,
        double_transitions=double + repeated,
        paid_payments=len(paid),
        transitions=sum(succeeded_events.values()),
        drain_seconds=drain_s,
        drain_rate=drain_rate,
        drain_wakeups=wakeups,
        inbox_statuses=dict(statuses),
        body_bytes=b.webhook_body_bytes,
    )
    b.log(
        f"verified: {lost} lost, {doubled + acked_twice} stored twice, "
        f"{double + repeated} double transitions; {len(paid)} payments -> "
        f"{sum(succeeded_events.values())} 'succeeded' transitions; drain {queued} events "
        f"in {drain_s:.1f}s ({drain_rate:.0f}/s); inbox {dict(statuses)}"
    )
    b.row(
        "Webhook ingestion",
        product,
        baseline,
        floor=floor,
        unit="events/s",
        target=">= 500 events/s, 0 lost, 0 double transitions",
        passed=product.rps >= 500 and lost == 0 and double == 0 and repeated == 0,
        note=(
            f"{len(product_reqs)} posts ({distinct} distinct + {len(product_reqs) - distinct} "
            f"re-sent), {b.webhook_body_bytes / 1024:.1f} KB each; {lost} lost, "
            f"{double + repeated} double transitions"
        ),
    )
    b.row(
        "Webhook processing (worker drain)",
        None,
        None,
        unit="events/s",
        target="no target: recorded",
        passed=None,
        note=(
            f"{queued} events in {drain_s:.1f}s = {drain_rate:.0f} events/s with "
            f"{cfg.drain_workers} db_worker processes"
        ),
    )


# --- scenario 3: the public link endpoint -----------------------------------------------
def scenario_public_link(b: Bench) -> None:
    from django.db import connection

    from paylinks.models import Payment

    slug = b.slugs[0]
    on_link = Payment.objects.filter(link__slug=slug).count()
    connection.close()
    b.log(f"== public link endpoint: GET /api/v1/public/links/<slug> ({on_link} payments on it)")

    # What the checkout page sends (checkout/lib/api.ts), from many customers; the same
    # headers go to the floor and the in-stack baseline.
    def load(path: str) -> HttpLoad:
        headers = {"Accept": "application/json"}
        return HttpLoad("GET", [path], headers=headers, clients=b.cfg.clients)

    # BENCH_ROUNDS rounds of the three, in turn, so a change in the machine's speed
    # during the run reaches all three alike; the row shows the round whose Paylinks /
    # floor ratio is the median, the note every round's.
    rounds = []
    for n in range(b.cfg.rounds):
        suffix = f" (round {n + 1})" if b.cfg.rounds > 1 else ""
        first = n == 0
        floor = b.timed(
            "floor: one primary-key SELECT" + suffix,
            load(f"/bench/row/{b.floor_row_pk}"),
            port=b.cfg.floor_port,
            profile=first,
        )
        baseline = b.timed(
            "in-stack baseline: one primary-key SELECT" + suffix, load(f"/bench/row/{b.row_pk}")
        )
        product = b.timed(
            "public link GET" + suffix, load(f"/api/v1/public/links/{slug}"), profile=first
        )
        b.check_errors(floor, baseline, product)
        rounds.append((product.rps / floor.rps if floor.rps else 0.0, floor, baseline, product))
    ratio, floor, baseline, product = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
    b.public_link = product
    per_round = ", ".join(f"{p.rps:,.0f}/{f.rps:,.0f} = {r:.2f}" for r, f, _, p in rounds)
    cpu = cpu_per_request(b, slug)
    product.extra.update(payments_on_link=on_link, cpu_per_request_us=cpu)
    b.row(
        "Public link endpoint",
        product,
        baseline,
        floor=floor,
        unit="requests/s",
        target=f">= 60% of the floor, p99 < 50 ms at {b.cfg.connections} connections",
        passed=ratio >= 0.6 and product.p99 < 50,
        note=(
            (f"rounds (Paylinks/floor): {per_round}; median shown; " if len(rounds) > 1 else "")
            + f"{on_link} payments on the link; CPU per request in a worker (bench/cpu.py, "
            f"least of {CPU_RUNS} runs): Paylinks {cpu['paylinks']:.0f} µs, floor "
            f"{cpu['floor']:.0f} µs (floor / Paylinks {cpu['floor'] / cpu['paylinks']:.2f})"
        ),
    )


CPU_RUNS = 3


def cpu_per_request(b: Bench, slug: str) -> dict[str, float]:
    """CPU per request inside a worker process (bench/cpu.py), Paylinks' link read and
    the floor's primary-key read in turn, CPU_RUNS processes each: a figure that moves
    far less with the machine's other load than requests per second do."""
    b.log("CPU per request in a worker process (bench/cpu.py), Paylinks and floor in turn")
    runs: dict[str, list[float]] = {"paylinks": [], "floor": []}
    targets = {
        "paylinks": ("project.wsgi", f"/api/v1/public/links/{slug}", b.env),
        "floor": ("bench.floor.wsgi", f"/bench/row/{b.floor_row_pk}", floor_env(b.cfg, b.secrets)),
    }
    for _ in range(CPU_RUNS):
        for name, (app, path, env) in targets.items():
            out = subprocess.run(
                [
                    PY, str(ROOT / "bench" / "cpu.py"), "--app", app, "--path", path,
                    "--header", "Accept: application/json",
                    "--clients", str(b.cfg.clients),
                ],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            result = json.loads(out.strip().splitlines()[-1])
            b.check(result["non_2xx"] == 0, f"bench/cpu.py {name}: {result['statuses']}")
            runs[name].append(result["cpu_us"])
    cpu = {name: min(values) for name, values in runs.items()}
    b.log(
        f"CPU per request: Paylinks {cpu['paylinks']:.0f} µs, floor {cpu['floor']:.0f} µs "
        f"(runs: {runs})"
    )
    return cpu


# --- scenario 4: the Next.js checkout page ---------------------------------------------
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
SCRIPT_SRC = re.compile(r'\bsrc="([^"]+\.js[^"]*)"')


def first_load_js(base_url: str, path: str) -> tuple[int, int, int]:
    """(files, raw bytes, gzipped bytes) of the JavaScript a first visit to ``path`` loads:
    every ``<script src>`` in the server-rendered HTML except ``nomodule`` ones, fetched
    and gzipped (level 9, as a CDN or ``next start`` with compression would send it).
    The same count as ``next build``'s old "First Load JS" column, read from what the
    browser really gets."""
    import gzip

    with urllib.request.urlopen(base_url + path, timeout=10) as response:
        html = response.read().decode()
    # noModule scripts (Next's polyfills) are skipped by every browser that runs modules.
    sources = sorted(
        {
            found.group(1)
            for tag in SCRIPT_TAG.findall(html)
            if "nomodule" not in tag.lower() and (found := SCRIPT_SRC.search(tag))
        }
    )
    raw = packed = 0
    for src in sources:
        with urllib.request.urlopen(base_url + src, timeout=10) as response:
            body = response.read()
        raw += len(body)
        packed += len(gzip.compress(body, 9))
    return len(sources), raw, packed


# The smallest App Router page: a layout and a page with no client component of its own.
FLOOR_APP = {
    "package.json": '{"private": true}\n',
    # Its own (empty) config: without one, next looks for the checkout page's.
    "next.config.mjs": "export default {};\n",
    "app/layout.jsx": (
        "export default function Layout({ children }) {\n"
        '  return <html lang="en"><body>{children}</body></html>;\n}\n'
    ),
    "app/page.jsx": (
        'export const dynamic = "force-dynamic";\n'
        "export default function Page() { return <p>Pay</p>; }\n"
    ),
}


def framework_floor_js() -> tuple[int, int, int]:
    """First-load JavaScript of an empty App Router page, built and served by the Next.js
    and React the checkout page has installed: what any App Router page ships before a
    line of Paylinks' own code. Built in a scratch folder inside ``checkout/`` (so it
    resolves ``checkout/node_modules``) that is removed afterwards."""
    from tests.e2e.servers import CHECKOUT, free_port, node_env

    scratch = Path(tempfile.mkdtemp(prefix=".bench-floor-", dir=CHECKOUT))
    server: subprocess.Popen[bytes] | None = None
    try:
        for name, text in FLOOR_APP.items():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            (scratch / name).write_text(text)
        next_bin = str(CHECKOUT / "node_modules" / ".bin" / "next")
        subprocess.run(
            [next_bin, "build"], cwd=scratch, env=node_env(), check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
        )  # fmt: skip
        port = free_port()
        server = subprocess.Popen(
            [next_bin, "start", "-H", "127.0.0.1", "-p", str(port)], cwd=scratch,
            env=node_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                return first_load_js(base, "/")
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)


#: Issue 14: the page serves >= 500 pages/s, and Paylinks' own first-load JavaScript stays
#: within 10 KB gzipped of the empty App Router page's.
PAGE_MIN_RPS = 500
PAGE_OWN_JS_BUDGET = 10 * 1024
PAGE_TARGET = ">= 500 pages/s; own first-load JS <= 10 KB gz over an empty App Router page"


def scenario_nextjs_pay_page(b: Bench) -> None:
    """``/pay/[slug]`` served by ``next start`` (production build), reading the link from
    the gunicorn under test: p50 and requests/s at BENCH_CONNECTIONS, and the route's
    first-load JavaScript. Its baseline is the public link endpoint it calls, measured
    in this run: the page can never be faster than the API behind it."""
    from tests.e2e.servers import NextServer, build_checkout, missing_node

    reason = missing_node()
    if reason:
        b.notes.append(f"Next.js page not measured: {reason}")
        b.row("Next.js /pay/[slug] page", None, None, unit="requests/s",
              target=PAGE_TARGET, passed=None,
              note=f"not measured: {reason}")  # fmt: skip
        return
    slug = b.slugs[0]
    b.log("== checkout page: GET /pay/[slug] from next start (npm ci + next build if needed)")
    build_checkout()
    # As deployed: the page cache at its default, visits counted in batches (the token).
    token = b.secrets["PAYLINKS_CHECKOUT_TOKEN"]
    # The load generator plays the TLS proxy in front: its X-Forwarded-For entries are the
    # customers (BENCH_CLIENTS of them), as they are for the API's per-IP limit.
    server = NextServer(
        b.cfg.base_url, PAYLINKS_CHECKOUT_TOKEN=token, CHECKOUT_TRUSTED_PROXIES="1"
    ).start()
    b.procs.running.append(("next", server.process))  # type: ignore[arg-type]
    try:
        path = f"/pay/{slug}"
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            b.check(response.status == 200, f"next: {path} answered {response.status}")
        files, raw, packed = first_load_js(server.url, path)
        api = b.public_link
        # Customers' addresses, which the page forwards to the API's per-IP limit.
        page = b.timed(
            "/pay/[slug] (next start)",
            HttpLoad("GET", [path], clients=b.cfg.clients),
            port=server.port,
        )
    finally:
        # The page sends its waiting visit counts before it exits: at thousands of cached
        # pages a second they queue up faster than Django stores them, so give it time.
        flush_started = time.monotonic()
        server.stop(timeout=180)
        flushed = time.monotonic() - flush_started
        b.log(f"checkout page stopped; its visit counts sent in {flushed:.1f}s")
        b.procs.running = [(n, p) for n, p in b.procs.running if p is not server.process]
    b.check_errors(page)
    # Every page answered was a new visitor (no cookies): every one must have been counted.
    from paylinks.models import LinkView

    counted = LinkView.objects.filter(link__slug=slug).count()
    b.check(counted >= page.requests, f"next: {counted} visits counted < {page.requests} pages")
    page.extra["visits_counted"] = counted
    b.log("building an empty App Router page with the same Next.js and React")
    try:
        floor = framework_floor_js()[2]
    except (OSError, subprocess.SubprocessError) as exc:
        b.notes.append(f"framework floor not measured: {exc}")
        floor = None
    page.extra["first_load_js"] = {
        "files": files, "raw_bytes": raw, "gzip_bytes": packed, "framework_floor_gzip": floor,
    }  # fmt: skip
    kb = packed / 1024
    floor_note = (
        f"; an empty App Router page with the same Next.js and React loads {floor / 1024:.1f} KB"
        f", so {(packed - floor) / 1024:.1f} KB is Paylinks' own"
        if floor is not None
        else ""
    )
    own_ok = floor is not None and (packed - floor) <= PAGE_OWN_JS_BUDGET
    b.row(
        "Next.js /pay/[slug] page",
        page,
        api,
        unit="pages/s",
        target=PAGE_TARGET,
        passed=page.rps >= PAGE_MIN_RPS and own_ok,
        note=(
            f"first-load JS: {files} files, {raw / 1024:.0f} KB raw, {kb:.1f} KB gzipped"
            f"{floor_note}; in-stack column: the public link endpoint the page calls (same run)"
        ),
    )


def scenario_outgoing_webhooks(b: Bench) -> None:
    """bench/outgoing_webhooks.py in its own process and database: fan-out to local
    receivers, one of them slow (its figures go to docs/scaling.md by hand)."""
    b.log("== outgoing webhooks: fan-out to local receivers, one slow (2 s per request)")
    env = {**os.environ, "BENCH_PG_URL": b.cfg.pg_url}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "outgoing_webhooks.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    for line in (done.stdout + done.stderr).strip().splitlines()[-3:]:
        b.log(line)
    b.check(done.returncode == 0, "outgoing webhooks: deliveries lost or duplicated")


SCENARIOS: list[tuple[str, Callable[[Bench], None]]] = [
    # Run order, not report order: checkout creates the sessions the webhook run pays.
    ("checkout", scenario_checkout),
    ("webhooks", scenario_webhooks),
    ("public_link", scenario_public_link),
    ("nextjs_pay_page", scenario_nextjs_pay_page),
    ("merchant_api", lambda b: merchant_api.scenario(b, HttpLoad)),
    ("outgoing_webhooks", scenario_outgoing_webhooks),
]
REPORT_ORDER = [
    "Webhook ingestion",
    "Webhook processing (worker drain)",
    "Checkout creation",
    "Public link endpoint",
    "Next.js /pay/[slug] page",
    *merchant_api.TITLES,
]


# --- report -----------------------------------------------------------------------------
def machine() -> dict[str, str]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    wrk = ""
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk = (out.stdout + out.stderr).split("Copyright")[0].strip()
    import django
    import gunicorn

    return {
        "cpus": str(CPUS),
        "cpu_model": model or platform.processor(),
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": wrk or "not installed",
    }


def _fmt_rate(m: Measurement | None) -> str:
    return f"{m.rps:,.0f}" if m else "-"


def _fmt_lat(m: Measurement | None) -> str:
    return f"{m.p50:.1f} / {m.p95:.1f} / {m.p99:.1f}" if m else "-"


def _fmt_ratio(ratio: float | None) -> str:
    return f"{ratio:.2f}" if ratio is not None else "-"


def _verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("PASS" if passed else "FAIL")


def report(b: Bench, info: dict[str, str], total_s: float) -> str:
    rows = sorted(
        b.rows,
        key=lambda r: REPORT_ORDER.index(r["title"]) if r["title"] in REPORT_ORDER else 99,
    )
    cfg = b.cfg
    lines = [
        "",
        "=" * 100,
        "Paylinks benchmark",
        f"  machine   {info['cpus']} CPUs ({info['cpu_model']}), {info['memory']}, {info['os']}",
        f"  software  Python {info['python']}, Django {info['django']}, gunicorn "
        f"{info['gunicorn']}, {b.pg_version}, wrk: {info['wrk']}",
        f"  gunicorn  {cfg.workers} sync workers (2 x {CPUS} CPUs), 1 thread each, backlog 2048,"
        f" DEBUG=false, 127.0.0.1:{cfg.port}; the floor project the same on :{cfg.floor_port}",
        f"  database  PostgreSQL 127.0.0.1, database {cfg.db} (the floor's: {cfg.floor_db}), "
        "persistent connections (CONN_MAX_AGE=60, health checks on); task backend: database "
        "(django-tasks-db)",
        "  floor     bench/floor/: a plain startproject (default middleware and apps), one "
        "model, one view; in-stack: the same view behind Paylinks' middleware",
        f"  load      checkout + link runs: {b.engine}, {cfg.connections} connections, "
        f"{cfg.warmup:g}s warm-up + {cfg.duration:g}s measured; webhook run: python, "
        f"{cfg.webhook_connections} connections, each request once (300-event warm-up)",
        f"  run       {total_s:.0f}s in all",
        "",
        f"  {'':<34} {'Paylinks':>9} {'floor':>7} {'ratio':>5} {'in-stack':>8} {'ratio':>5}   "
        f"{'p50 / p95 / p99 ms':<22} {'floor p50/p95/p99':<20} {'in-stack p50/p95/p99':<20}",
    ]
    for r in rows:
        p, floor, base = r["product"], r["floor"], r["baseline"]
        lines.append(
            f"  {r['title'] + ' (' + r['unit'] + ')':<34} {_fmt_rate(p):>9} {_fmt_rate(floor):>7} "
            f"{_fmt_ratio(r['ratio']):>5} {_fmt_rate(base):>8} {_fmt_ratio(r['stack_ratio']):>5}"
            f"   {_fmt_lat(p):<22} {_fmt_lat(floor):<20} {_fmt_lat(base):<20}"
        )
        if p or floor or base:
            errors = ", ".join(
                f"{m.name}: {m.non_2xx} non-2xx / {m.socket_errors} socket"
                for m in (p, floor, base)
                if m
            )
            lines.append(f"      errors: {errors}")
        if r["note"]:
            lines.append(f"      {r['note']}")
    lines.append("")
    for r in rows:
        if r["passed"] is not None:
            lines.append(f"  {_verdict(r['passed'])}  {r['title']}: {r['target']}")
    lines.append("")
    if b.failures:
        lines.append("  INTEGRITY/ERROR FAILURES (exit status 1):")
        lines += [f"    - {f}" for f in b.failures]
    else:
        lines.append("  integrity: 0 lost, 0 duplicated, 0 errors")
    lines.append("=" * 100)
    return "\n".join(lines)


def docs_table(b: Bench, info: dict[str, str]) -> str:
    out = [
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d')} on {info['cpus']} CPUs "
        f"({info['cpu_model']}), {info['memory']}; {b.pg_version}; Python {info['python']}, "
        f"Django {info['django']}, gunicorn {info['gunicorn']} ({b.cfg.workers} sync workers); "
        f"load generator for checkout/link: {b.engine}.",
        "",
        "| Scenario | Paylinks | Floor | Ratio | In-stack baseline | Ratio | p50 / p95 / p99 ms "
        "| Floor p50 / p95 / p99 ms | Errors | Target |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---|",
    ]
    rows = sorted(
        b.rows,
        key=lambda r: REPORT_ORDER.index(r["title"]) if r["title"] in REPORT_ORDER else 99,
    )
    for r in rows:
        p, floor, base = r["product"], r["floor"], r["baseline"]
        measured = [m for m in (p, floor, base) if m]
        errors = sum(m.errors for m in measured)
        rate = f"{_fmt_rate(p)} {r['unit']}" if p else r["note"]
        out.append(
            f"| {r['title']} | {rate} | {_fmt_rate(floor)} | {_fmt_ratio(r['ratio'])} | "
            f"{_fmt_rate(base)} | {_fmt_ratio(r['stack_ratio'])} | {_fmt_lat(p)} | "
            f"{_fmt_lat(floor)} | {errors if measured else '-'} | "
            + (
                f"{_verdict(r['passed'])} ({r['target']})"
                if r["passed"] is not None
                else r["target"]
            )
            + " |"
        )
    return "\n".join(out)


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin not in text or end not in text:
        print(f"docs: no {begin} ... {end} block in {DOCS}; not updated")
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOCS.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
    print(f"docs: figures written to {DOCS.relative_to(ROOT)}")


def save_json(b: Bench, info: dict[str, str]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": info,
        "config": {k: getattr(b.cfg, k) for k in b.cfg.__dataclass_fields__},
        "engine": b.engine,
        "measurements": [m.__dict__ for m in b.measurements],
        "failures": b.failures,
    }
    RESULTS.write_text(json.dumps(data, indent=2, default=str))


# --- main -------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description="Paylinks benchmarks (see docs/scaling.md)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/scaling.md")
    parser.add_argument(
        "--only", default="", help="comma-separated scenarios: " + ",".join(n for n, _ in SCENARIOS)
    )
    parser.add_argument("--analytics", action="store_true", help="bench/analytics.py only")
    parser.add_argument(
        "--analytics-browser",
        action="store_true",
        help="bench/analytics_browser.py only (navigation -> charts drawn in Chromium)",
    )
    args = parser.parse_args()
    if args.analytics:  # its own database, seeding and in-process measurements
        from bench import analytics

        return analytics.main(write=args.write_docs)
    if args.analytics_browser:  # the same database, the page in Chromium
        from bench import analytics_browser

        return analytics_browser.main(write=args.write_docs)
    cfg = Config()
    bench = Bench(cfg)
    started = time.perf_counter()
    only = {s for s in args.only.split(",") if s}
    crashed = False

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        bench.log(
            f"load generator for duration runs: {bench.engine}"
            + ("" if bench.engine == "wrk" else " (wrk not found or BENCH_LOADGEN=python)")
        )
        bench.setup()
        bench.start_gunicorn()
        for name, scenario in SCENARIOS:
            if only and name not in only and name != "checkout":
                continue
            scenario(bench)
    except KeyboardInterrupt:
        bench.log("interrupted; cleaning up")
        crashed = True
    except Exception:
        traceback.print_exc()
        crashed = True
        bench.failures.append("the benchmark crashed (traceback above)")
    finally:
        bench.procs.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may never have been set up
            pass
        bench.drop_database()
        shutil.rmtree(bench.tmp, ignore_errors=True)
    info = machine()
    if bench.rows:
        print(report(bench, info, time.perf_counter() - started))
        save_json(bench, info)
        if args.write_docs and not crashed:
            write_docs(docs_table(bench, info))
    return 1 if bench.failures or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
