#!/usr/bin/env python
"""Paylinks on several hosts: ``make scale``.

Starts, on this machine: two web hosts (gunicorn with deploy/gunicorn.conf.py on two
ports), two workers (``manage.py worker``, RQ tasks), and nginx from Debian's package as
the load balancer, running deploy/nginx/paylinks.conf (TLS with a throwaway self-signed
certificate; only its ports and paths are filled in). One PostgreSQL database and one
Redis index are shared by everything: data, tasks, cache and rate-limit counters.

Then it checks, across the hosts:

1. 100 buyers, each from its own address, on a link limited to 10 payments, through
   nginx (so over both hosts): exactly 10 are paid;
2. one webhook event sent 50 times, half to each host at once: one inbox row, one
   transition;
3. a per-IP rate limit counts the requests of both hosts together (not twice the limit);
4. one web host killed (SIGKILL) in the middle of a load of checkouts and webhooks: every
   request that was answered 2xx has its effect in the database;

and prints the public link read's throughput through nginx with one web host and with
two (docs/scaling.md, "Several hosts"). Exit status 0 when all four checks pass.

Configuration (environment variables, all optional):

    SCALE_PG_URL     postgres://postgres@127.0.0.1:5432   PostgreSQL server
    SCALE_DB         paylinks_scale         database (dropped and re-created, then dropped)
    SCALE_REDIS_URL  redis://127.0.0.1:6379/5   Redis index (flushed at start and end)
    SCALE_PORT       8700                   first of the ports used (8700-8704)
    SCALE_SECONDS    8                      length of each throughput run
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
NGINX_CONF = ROOT / "deploy" / "nginx" / "paylinks.conf"


# --- nginx ----------------------------------------------------------------------------------
def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (openssl), valid for a day."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def render_nginx(
    prefix: Path,
    *,
    http_port: int,
    https_port: int,
    web_ports: list[int],
    checkout_ports: list[int],
    certificate: Path,
    key: Path,
) -> Path:
    """deploy/nginx/paylinks.conf with local values, inside a minimal main nginx.conf
    (pid, logs and temporary files under ``prefix``); returns the main file's path."""
    values = {
        "SERVER_NAME": "127.0.0.1 localhost",
        "HTTP_PORT": f"127.0.0.1:{http_port}",
        "HTTPS_PORT": f"127.0.0.1:{https_port}",
        "TLS_CERTIFICATE": str(certificate),
        "TLS_CERTIFICATE_KEY": str(key),
        "WEB_SERVERS": " ".join(
            f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in web_ports
        ),
        "CHECKOUT_SERVERS": " ".join(f"server 127.0.0.1:{port};" for port in checkout_ports),
    }
    text = NGINX_CONF.read_text()
    site = re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], text)
    (prefix / "paylinks.conf").write_text(site)
    temp = prefix / "temp"  # nginx's buffers for request bodies and upstream answers
    for name in ("client_body", "proxy"):
        (temp / name).mkdir(parents=True, exist_ok=True)
    main = prefix / "nginx.conf"
    main.write_text(
        f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    access_log off;
    include {prefix}/paylinks.conf;
}}
"""
    )
    return main


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing nginx-light from Debian's packages", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx-light"],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        return shutil.which("nginx") or "/usr/sbin/nginx"
    raise SystemExit("make scale needs nginx: apt-get install nginx-light")


# --- processes ------------------------------------------------------------------------------
class Processes:
    """Everything this run starts, stopped by pid (its process group) at the end."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        out = log.open("ab")
        self.running[name] = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, name: str) -> None:
        proc = self.running.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.running.clear()


# --- HTTP from a chosen source address ------------------------------------------------------
@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    def __init__(self, https_port: int, certificate: Path) -> None:
        self.port = https_port
        self.context = ssl.create_default_context(cafile=str(certificate))

    def request(
        self,
        method: str,
        path: str,
        *,
        source: str = "127.0.0.1",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        port: int | None = None,
    ) -> Answer:
        """One request through nginx (https), or straight to a web host's ``port`` (http),
        from ``source`` (any 127.x.y.z is this machine's)."""
        if port is None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.context, timeout=30,
                source_address=(source, 0),
            )  # fmt: skip
        else:
            conn = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30, source_address=(source, 0)
            )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            headers = dict(response.getheaders())
            cookies = [c.split(";")[0] for c in response.msg.get_all("Set-Cookie") or []]
            headers["Set-Cookie"] = "; ".join(cookies)
            return Answer(response.status, response.read(), headers)
        except (OSError, http.client.HTTPException):
            return Answer(0, b"")
        finally:
            conn.close()


def source(n: int) -> str:
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- the run --------------------------------------------------------------------------------
class Scale:
    def __init__(self) -> None:
        self.pg_url = os.environ.get("SCALE_PG_URL", "postgres://postgres@127.0.0.1:5432")
        self.db = os.environ.get("SCALE_DB", "paylinks_scale")
        self.redis_url = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/5")
        base = int(os.environ.get("SCALE_PORT", "8700"))
        self.web_ports = [base, base + 1]
        self.http_port, self.https_port = base + 2, base + 3
        self.checkout_port = base + 4  # nothing listens: the checks use the API and sandbox
        self.seconds = float(os.environ.get("SCALE_SECONDS", "8"))
        self.work = Path(tempfile.mkdtemp(prefix="paylinks-scale-"))
        self.procs = Processes()
        self.nginx = nginx_binary()
        self.results: list[tuple[str, bool, str]] = []
        self.outcomes: dict[str, int] = {}
        self.lock = threading.Lock()

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    # setup ---------------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        import secrets

        from cryptography.fernet import Fernet

        from bench.merchant_api import ENV as API_ENV

        site = f"https://127.0.0.1:{self.https_port}"
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PAYLINKS_", "DJANGO"))}
        return {
            **keep,
            **API_ENV,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "PAYLINKS_SKIP_DOTENV": "1",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(24),
            "DATABASE_URL": f"{self.pg_url.rstrip('/')}/{self.db}",
            "REDIS_URL": self.redis_url,
            "PAYLINKS_TASK_BACKEND": "rq",
            "PAYLINKS_GATEWAY": "sandbox",
            "PAYLINKS_REQUIRE_MFA": "false",
            "SITE_URL": site,
            "PUBLIC_CHECKOUT_URL": site,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BEHIND_TLS_PROXY": "true",
            "PAYLINKS_TRUSTED_PROXIES": "1",
            "PAYLINKS_SIGNIN_TRUSTED_PROXIES": "1",
            # The workers deliver the sandbox's webhooks through nginx's https.
            "REQUESTS_CA_BUNDLE": str(self.work / "tls.crt"),
            # Limits as in production, except the per-link checkout limit (the card-testing
            # defence), which the throughput and kill runs exceed by design.
            "PAYLINKS_RATE_PUBLIC_IP": "600/min",
            "PAYLINKS_RATE_CHECKOUT_LINK": "",
            "PAYLINKS_WEBHOOK_BATCH_MS": "200",
            # This run reads each host's own /metrics from 127.0.0.1 (nginx refuses it).
            "PAYLINKS_METRICS_ALLOWED_IPS": "127.0.0.1",
            "PAYLINKS_SWEEP_SECONDS": "5",
            "SANDBOX_SETTLE_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "WEB_CONCURRENCY": os.environ.get("SCALE_WEB_WORKERS", "2"),
        }

    def admin_sql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def setup(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.db) or self.db in ("postgres", "test"):
            raise SystemExit(f"SCALE_DB={self.db!r}: use a dedicated database name")
        self.certificate, self.key = self_signed_certificate(self.work)
        self.env = self.environment()
        os.environ.update(self.env)
        self.log(f"database {self.db}, Redis {self.redis_url}, logs in {self.work}")
        self.admin_sql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        self.admin_sql(f"CREATE DATABASE {self.db}")
        self.flush_redis()
        for command in (["migrate"], ["collectstatic"]):  # as a deploy does (scripts/deploy)
            subprocess.run(
                [PY, "manage.py", *command, "--no-input", "-v", "0"], cwd=ROOT, env=self.env,
                check=True,
            )  # fmt: skip
        import django

        django.setup()
        for n, port in enumerate(self.web_ports, start=1):
            self.start_web(n, port)
        for n in (1, 2):
            self.procs.start(
                f"worker{n}", [PY, "manage.py", "worker"], self.env, self.work / f"worker{n}.log"
            )
        self.start_nginx(self.web_ports)
        self.http = Http(self.https_port, self.certificate)
        self.wait_ready()

    def start_web(self, n: int, port: int) -> None:
        env = {
            **self.env,
            "BIND": "127.0.0.1",
            "PORT": str(port),
            "PROMETHEUS_MULTIPROC_DIR": str(self.work / f"metrics-web{n}"),
        }
        self.procs.start(
            f"web{n}",
            [str(Path(PY).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "project.wsgi"],
            env,
            self.work / f"web{n}.log",
        )

    def start_nginx(self, web_ports: list[int]) -> None:
        main = render_nginx(
            self.work, http_port=self.http_port, https_port=self.https_port,
            web_ports=web_ports, checkout_ports=[self.checkout_port],
            certificate=self.certificate, key=self.key,
        )  # fmt: skip
        if "nginx" in self.procs.running:
            subprocess.run([self.nginx, "-p", str(self.work), "-c", str(main), "-s", "reload"],
                           check=True, capture_output=True)  # fmt: skip
            time.sleep(1)
            return
        subprocess.run([self.nginx, "-t", "-q", "-p", str(self.work), "-c", str(main)], check=True)
        self.procs.start(
            "nginx",
            [self.nginx, "-p", str(self.work), "-c", str(main), "-g", "daemon off;"],
            self.env,
            self.work / "nginx.log",
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        ports: list[int | None] = [*self.web_ports, None]
        while ports and time.monotonic() < deadline:
            ports = [p for p in ports if self.http.request("GET", "/readyz", port=p).status != 200]
            time.sleep(0.5)
        if ports:
            raise SystemExit(f"not ready after 120 s: {ports} (logs in {self.work})")
        self.log("two web hosts, two workers and nginx are ready")

    def host_counts(self, view: str) -> list[float]:
        """Requests each web host answered for ``view`` (its own /metrics, all statuses)."""
        from prometheus_client.parser import text_string_to_metric_families

        counts = []
        for port in self.web_ports:
            answer = self.http.request("GET", "/metrics", port=port)  # from 127.0.0.1: allowed
            if answer.status != 200:
                raise SystemExit(f"/metrics on port {port} answered {answer.status}")
            total = 0.0
            for family in text_string_to_metric_families(answer.body.decode()):
                for sample in family.samples:
                    if (
                        sample.name == "paylinks_http_requests_total"
                        and sample.labels.get("view") == view
                    ):
                        total += sample.value
            counts.append(total)
        return counts

    def record(self, name: str, ok: bool, detail: str) -> None:
        self.results.append((name, ok, detail))
        self.log(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")

    # data ----------------------------------------------------------------------------------
    def link(self, *, limit: int | None = None, title: str = "Scale test") -> str:
        from paylinks.models import Merchant
        from paylinks.services.links import payment_link_create
        from paylinks.services.merchants import merchant_create

        merchant = Merchant.objects.filter(slug="scale-books").first() or merchant_create(
            name="Scale Books", slug="scale-books", support_email="help@scale-books.test"
        )
        return payment_link_create(
            merchant=merchant, actor=None, title=title, description="", currency="USD",
            amount=1200, payment_limit=limit,
        ).slug  # fmt: skip

    def wait_settled(self, timeout: float = 120) -> bool:
        """Until no payment is pending with a completed session and the inbox is empty."""
        from paylinks.models import Payment, WebhookEvent

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = Payment.objects.filter(
                status="pending", session_completed_at__isnull=False
            ).exists()
            inbox = WebhookEvent.objects.filter(status__in=["pending", "failed"]).exists()
            if not waiting and not inbox:
                return True
            time.sleep(1)
        return False

    # buying --------------------------------------------------------------------------------
    def buy(self, slug: str, n: int) -> str | None:
        """A buyer from address ``n``: checkout through nginx, then pay on the sandbox's page.
        Returns the payment id when the customer paid."""
        me = source(n)
        started = self.http.request(
            "POST", f"/api/v1/public/links/{slug}/checkout", source=me, body=b"{}",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        if started.status != 201:
            self.note(f"checkout {started.status}")
            return None
        data = started.json()
        path = "/" + data["checkout_url"].split("/", 3)[3]
        page = self.http.request("GET", path, source=me)
        token = CSRF.search(page.body)
        cookie = page.headers.get("Set-Cookie", "")
        if page.status != 200 or token is None:
            self.note(f"page {page.status}")
            return None
        form = (
            f"csrfmiddlewaretoken={token.group(1).decode()}&method=card"
            f"&email=buyer{n}%40example.test&number=4242424242424242&expiry=12+%2F+34"
            f"&cvc=123&name=Buyer+{n}"
        ).encode()
        paid = self.http.request(
            "POST", path, source=me, body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                     "Referer": data["checkout_url"]},
        )  # fmt: skip
        if paid.status != 303:
            self.note(f"pay {paid.status} {paid.body[:80]!r}")
            return None
        return str(data["payment_id"])

    def note(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def check_limited_link(self) -> None:
        from paylinks.models import Payment

        slug = self.link(limit=10, title="Signed first edition")
        before = self.host_counts("api:public-checkout-create")
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            paid = [p for p in pool.map(lambda n: self.buy(slug, n), range(100)) if p]
        after = self.host_counts("api:public-checkout-create")
        settled = self.wait_settled()
        succeeded = Payment.objects.filter(link__slug=slug, status="succeeded").count()
        per_host = [int(a - b) for a, b in zip(after, before, strict=True)]
        self.record(
            "100 buyers, limit 10",
            succeeded == 10 and len(paid) == 10 and settled and all(per_host),
            f"{len(paid)} paid on the sandbox, {succeeded} succeeded; checkout requests per "
            f"host {per_host}; the others: {self.outcomes}",
        )

    # webhooks ------------------------------------------------------------------------------
    def signed(self, body: bytes) -> str:
        timestamp = int(time.time())
        secret = self.env["STRIPE_WEBHOOK_SECRET"].encode()
        mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={mac}"

    def paid_without_webhooks(self, slug: str) -> Any:
        """A payment the sandbox has been paid for, with the sandbox's own events removed
        before they were sent: only the events this run sends can move it."""
        from django.db import transaction

        from paylinks.gateways.sandbox import engine
        from paylinks.gateways.sandbox.cards import card_for
        from paylinks.gateways.sandbox.models import SandboxEvent, SandboxSession
        from paylinks.models import Payment

        started = self.http.request(
            "POST", f"/api/v1/public/links/{slug}/checkout", source=source(900), body=b"{}",
            headers={"Content-Type": "application/json"},
        ).json()  # fmt: skip
        with transaction.atomic():
            mark = SandboxEvent.objects.order_by("-created_at").values_list("pk", flat=True)
            known = set(mark[:1000])
            engine.pay_with_card(
                started["session_id"], card=card_for("4242424242424242"), last4="4242",
                customer=engine.Customer(email="dup@example.test", name="Dup"),
            )  # fmt: skip
            SandboxEvent.objects.exclude(pk__in=known).delete()
        payment = Payment.objects.get(public_id=started["payment_id"])
        session = SandboxSession.objects.get(pk=started["session_id"])
        return payment, session

    def check_duplicate_webhook(self) -> None:
        from paylinks.gateways.sandbox import objects
        from paylinks.models import PaymentEvent, WebhookEvent

        payment, session = self.paid_without_webhooks(self.link(title="Duplicate webhook"))
        event = {
            "id": "evt_scale_duplicate_0001", "object": "event", "api_version": "2025-01-27",
            "created": int(time.time()), "type": "checkout.session.completed",
            "livemode": False, "pending_webhooks": 1, "request": {"id": None},
            "data": {"object": objects.session_object(session)},
        }  # fmt: skip
        body = json.dumps(event).encode()

        def send(n: int) -> Answer:
            return self.http.request(
                "POST", "/webhooks/stripe/", body=body, port=self.web_ports[n % 2],
                headers={"Content-Type": "application/json", "Stripe-Signature": self.signed(body)},
            )  # fmt: skip

        with concurrent.futures.ThreadPoolExecutor(25) as pool:
            answers = list(pool.map(send, range(50)))
        self.wait_settled()
        new = sum(1 for a in answers if a.status == 200 and a.json().get("duplicate") is False)
        rows = WebhookEvent.objects.filter(event_id=event["id"]).count()
        moves = PaymentEvent.objects.filter(
            payment=payment, kind="status_changed", to_status="succeeded"
        ).count()
        payment.refresh_from_db()
        self.record(
            "one event sent 50 times to both hosts",
            all(a.status == 200 for a in answers) and new == 1 and rows == 1 and moves == 1
            and payment.status == "succeeded",
            f"{sum(a.status == 200 for a in answers)}/50 answered 200, {new} stored as new, "
            f"{rows} inbox row, {moves} transition to succeeded",
        )  # fmt: skip

    # rate limits ---------------------------------------------------------------------------
    def check_shared_rate_limit(self, slug: str) -> None:
        """600/min per address on public reads: 650 reads from one address, one at a time,
        nginx alternating the hosts. A limit per host would let 650 through."""
        me = source(950)
        before = self.host_counts("api:public-link")
        statuses = [
            self.http.request("GET", f"/api/v1/public/links/{slug}", source=me).status
            for _ in range(650)
        ]
        after = self.host_counts("api:public-link")
        allowed, refused = statuses.count(200), statuses.count(429)
        per_host = [int(a - b) for a, b in zip(after, before, strict=True)]
        self.record(
            "per-IP limit shared by the hosts",
            allowed == 600 and refused == 50 and min(per_host) > 200,
            f"{allowed} allowed, {refused} refused (limit 600/min); requests per host {per_host}",
        )

    # a host dies ---------------------------------------------------------------------------
    def check_host_killed(self) -> None:
        from paylinks.models import Payment, WebhookEvent

        slug = self.link(title="Kill a host")
        accepted_payments: list[str] = []
        accepted_events: list[str] = []
        failures = 0
        lock = threading.Lock()
        stop = time.monotonic() + 8

        def load(worker: int) -> None:
            nonlocal failures
            n = 0
            while time.monotonic() < stop:
                n += 1
                if n % 2:
                    answer = self.http.request(
                        "POST", f"/api/v1/public/links/{slug}/checkout",
                        source=source(worker * 40 + n % 40), body=b"{}",
                        headers={"Content-Type": "application/json"},
                    )  # fmt: skip
                    with lock:
                        if answer.status == 201:
                            accepted_payments.append(answer.json()["payment_id"])
                        elif answer.status != 429:
                            failures += 1
                else:
                    event_id = f"evt_scale_kill_{worker}_{n}"
                    body = json.dumps({
                        "id": event_id, "object": "event", "type": "scale.test.ignored",
                        "created": int(time.time()), "data": {"object": {"id": f"x_{n}"}},
                    }).encode()  # fmt: skip
                    answer = self.http.request(
                        "POST", "/webhooks/stripe/", body=body,
                        headers={"Content-Type": "application/json",
                                 "Stripe-Signature": self.signed(body)},
                    )  # fmt: skip
                    with lock:
                        if answer.status == 200:
                            accepted_events.append(event_id)
                        else:
                            failures += 1

        threads = [threading.Thread(target=load, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        self.log("killing web host 1 (SIGKILL to its gunicorn master and workers)")
        self.procs.kill("web1")
        for thread in threads:
            thread.join()
        stored = set(
            Payment.objects.filter(public_id__in=accepted_payments).values_list(
                "public_id", flat=True
            )
        )
        events = set(
            WebhookEvent.objects.filter(event_id__in=accepted_events).values_list(
                "event_id", flat=True
            )
        )
        lost = (len(accepted_payments) - len(stored)) + (len(accepted_events) - len(events))
        self.record(
            "a web host killed mid-load",
            lost == 0 and len(accepted_payments) > 0 and len(accepted_events) > 0,
            f"{len(accepted_payments)} checkouts and {len(accepted_events)} webhooks accepted, "
            f"{lost} of them missing from the database; {failures} requests refused or cut "
            "off (not accepted, so the client retries)",
        )
        self.start_web(1, self.web_ports[0])
        self.wait_ready()

    # throughput ----------------------------------------------------------------------------
    def throughput(self, slug: str, label: str) -> float:
        done = 0
        errors = 0
        lock = threading.Lock()
        stop = time.monotonic() + self.seconds

        def load(worker: int) -> None:
            nonlocal done, errors
            n = 0
            while time.monotonic() < stop:
                n += 1
                answer = self.http.request(
                    "GET", f"/api/v1/public/links/{slug}", source=source(worker * 10 + n % 10)
                )
                with lock:
                    if answer.status == 200:
                        done += 1
                    else:
                        errors += 1

        threads = [threading.Thread(target=load, args=(w,)) for w in range(16)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = done / (time.monotonic() - started)
        self.log(f"{label}: {rate:.0f} link reads/s through nginx ({errors} errors)")
        return rate

    def measure(self, slug: str) -> tuple[float, float]:
        self.start_nginx(self.web_ports[:1])
        one = self.throughput(slug, "one web host ")
        self.start_nginx(self.web_ports)
        two = self.throughput(slug, "two web hosts")
        return one, two

    # ----------------------------------------------------------------------------------------
    def run(self) -> int:
        try:
            self.setup()
            reads = self.link(title="Throughput")
            self.check_limited_link()
            self.check_duplicate_webhook()
            self.check_shared_rate_limit(reads)
            self.check_host_killed()
            one, two = self.measure(reads)
            cpus = os.cpu_count()
            print(
                f"\nThroughput of GET /api/v1/public/links/<slug> through nginx (TLS), "
                f"16 connections, {cpus} CPUs shared by everything:\n"
                f"  one web host:  {one:7.0f} req/s\n"
                f"  two web hosts: {two:7.0f} req/s  ({two / one:.2f}x)\n",
                flush=True,
            )
        finally:
            self.procs.stop_all()
            try:
                from django.db import connections

                connections.close_all()
                self.admin_sql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
                self.flush_redis()
            except Exception as exc:
                self.log(f"cleanup: {exc}")
        failed = [name for name, ok, _ in self.results if not ok]
        print("make scale:", "all four checks passed" if len(self.results) == 4 and not failed
              else f"FAILED {failed or 'before all checks ran'}")  # fmt: skip
        return 0 if len(self.results) == 4 and not failed else 1


if __name__ == "__main__":
    sys.exit(Scale().run())
