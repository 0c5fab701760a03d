"""Delivering outgoing webhooks: claim due deliveries, POST them signed, record the answer.

One worker runs ``drain``: its own thread (the only one with a database connection)
claims due deliveries and records results; ``PAYLINKS_WEBHOOK_THREADS`` threads (32) do the
HTTP and never touch the database. So a worker holds one database connection for
deliveries however many are in flight.

- **Fair.** At most ``PAYLINKS_WEBHOOK_PER_ENDPOINT`` (4) deliveries of one endpoint are
  in flight at once, across all workers (the claim locks the endpoint rows it counts,
  ``SKIP LOCKED`` on PostgreSQL), so a slow or dead endpoint uses at most 4 threads and
  every other endpoint keeps the rest.
- **At least once.** A claim is a lease (status ``sending`` until ``lease_until``). A
  worker killed mid-delivery leaves its lease to expire, and the delivery is sent again
  with the same ``webhook-id`` (the event's ``evt_`` id): receivers de-duplicate by it.
- **Bounded.** 10 s per request in all (``PAYLINKS_WEBHOOK_TIMEOUT_SECONDS``), redirects
  not followed, at most 2 KB of the answer kept. Failures retry with exponential
  back-off and jitter for about three days (``RETRY_DELAYS``), then the delivery is
  given up. An endpoint whose deliveries have all failed for
  ``PAYLINKS_WEBHOOK_DISABLE_HOURS`` is disabled and its owners e-mailed.
- **Guarded.** Every attempt resolves and checks the host again (``ssrf.check_url``) and
  connects to the checked address itself, never re-resolving.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.tasks import task
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from paylinks.models import Delivery, Membership, Role, WebhookEndpoint
from paylinks.queueing import enqueue_with_transaction

from . import mail, ssrf

logger = logging.getLogger(__name__)

BODY_KEPT: Final = 2048
#: How long past the request timeout a claim stays leased before another worker may
#: take it over (a worker killed mid-delivery).
LEASE_MARGIN: Final = timedelta(seconds=5)
#: Waits between attempts (before jitter): 15 attempts over about three days (75 h).
RETRY_DELAYS: Final = tuple(
    timedelta(seconds=s)
    for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200, 43200)
)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1
USER_AGENT: Final = "Paylinks-Webhooks/1.0"
#: A drain stops claiming after this long and hands over to a new task, so other tasks
#: queued for the same worker are not held up.
DRAIN_SECONDS: Final = 60.0


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    token: str
    url: str
    event_id: str
    body: str
    secrets: tuple[str, ...]
    attempts: int = 0
    endpoint_id: int = 0
    endpoint_failing: bool = False


@dataclass(frozen=True)
class Answer:
    ok: bool
    status_code: int | None
    latency_ms: int
    body: str
    error: str


def signature_header(secrets: tuple[str, ...], msg_id: str, moment: datetime, body: str) -> str:
    """Standard Webhooks signatures, one per secret, separated by spaces."""
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The current secret, and during a rotation's overlap the previous one as well."""
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


# --- claiming (the database thread) ------------------------------------------------------
def claim(limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries, never more than the per-endpoint cap in flight."""
    return _claim(limit)[0]


def _claim(limit: int) -> tuple[list[Claimed], bool]:
    """The claimed deliveries, and whether any delivery was due (claimed or not: its
    endpoint at its cap, or locked by another worker's claim at this moment)."""
    if limit <= 0:
        return [], True
    now = timezone.now()
    cap = settings.PAYLINKS_WEBHOOK_PER_ENDPOINT
    due = Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, lease_until__lt=now
    )
    ranked = (
        Delivery.objects.filter(due, endpoint__enabled=True)
        .annotate(rank=Window(RowNumber(), partition_by=[F("endpoint_id")], order_by=F("id").asc()))
        .filter(rank__lte=cap)
        .values_list("id", "endpoint_id")
    )
    candidates = list(ranked[: limit * 4])
    if not candidates:
        return [], False
    token = uuid.uuid4().hex
    with transaction.atomic():
        endpoint_ids = {endpoint_id for _, endpoint_id in candidates}
        locked = WebhookEndpoint.objects.filter(pk__in=endpoint_ids, enabled=True)
        if connection.features.has_select_for_update_skip_locked:
            locked = locked.select_for_update(skip_locked=True)
        endpoints = {e.pk: e for e in locked}
        busy = Counter(
            Delivery.objects.filter(
                endpoint_id__in=endpoints, status=Delivery.Status.SENDING, lease_until__gte=now
            ).values_list("endpoint_id", flat=True)
        )
        chosen: list[int] = []
        for delivery_id, endpoint_id in candidates:
            if endpoint_id in endpoints and busy[endpoint_id] < cap and len(chosen) < limit:
                busy[endpoint_id] += 1
                chosen.append(delivery_id)
        if not chosen:
            return [], True
        Delivery.objects.filter(due, pk__in=chosen).update(
            status=Delivery.Status.SENDING, lease_until=now + _lease(), lease_token=token
        )
        rows = list(
            Delivery.objects.filter(lease_token=token, status=Delivery.Status.SENDING)
            .select_related("event")
            .only("id", "endpoint_id", "attempts", "event__public_id", "event__payload")
        )
    claimed = [
        Claimed(
            delivery_id=row.pk,
            token=token,
            url=endpoints[row.endpoint_id].url,
            event_id=row.event.public_id,
            body=json.dumps(row.event.payload, separators=(",", ":"), ensure_ascii=False),
            secrets=signing_secrets(endpoints[row.endpoint_id], now),
            attempts=row.attempts,
            endpoint_id=row.endpoint_id,
            endpoint_failing=endpoints[row.endpoint_id].failing_since is not None,
        )
        for row in rows
    ]
    return claimed, True


# --- sending (HTTP threads: no database) -------------------------------------------------
def send(claimed: Claimed) -> Answer:
    started = time.monotonic()
    try:
        target = ssrf.check_url(claimed.url)
        now = datetime.now(tz=UTC)
        headers = {
            "webhook-id": claimed.event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature_header(
                claimed.secrets, claimed.event_id, now, claimed.body
            ),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        status, body = post(target, headers, claimed.body.encode())
    except ssrf.UnsafeURL as exc:
        return Answer(False, None, _ms(started), "", f"Refused: {exc}"[:255])
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Answer(False, None, _ms(started), "", _error_text(exc))
    ok = 200 <= status < 300
    error = "" if ok else f"HTTP {status}"
    return Answer(ok, status, _ms(started), body, error)


_local = threading.local()


def _pool(target: ssrf.Target) -> urllib3.HTTPConnectionPool:
    """This thread's connection pool to the checked address (keep-alive between the
    deliveries one drain sends to the same endpoint; the threads end with the drain)."""
    pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = (
        getattr(_local, "pools", None) or {}
    )
    _local.pools = pools
    key = (target.scheme, target.address, target.port, target.host)
    if key not in pools:
        if len(pools) > 64:
            for old in pools.values():
                old.close()
            pools.clear()
        pools[key] = _new_pool(target)
    return pools[key]


def post(target: ssrf.Target, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST to the checked address itself (no second DNS lookup), no redirects, 10 s."""
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    pool = _pool(target)
    response = pool.urlopen(
        "POST",
        target.path,
        body=body,
        headers={**headers, "host": host_header},
        redirect=False,
        retries=False,
        preload_content=False,
        assert_same_host=False,
        timeout=urllib3.Timeout(total=_timeout()),
    )
    try:
        kept = response.read(BODY_KEPT, decode_content=True)
    finally:
        if response.length_remaining == 0:
            response.release_conn()  # read to the end: the connection can be reused
        else:
            response.close()  # a longer (or unknown) body is not read on: drop the socket
    return response.status, kept.decode("utf-8", "replace")


def _new_pool(target: ssrf.Target) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(total=_timeout())
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def _timeout() -> float:
    return float(settings.PAYLINKS_WEBHOOK_TIMEOUT_SECONDS)


def _lease() -> timedelta:
    return timedelta(seconds=_timeout()) + LEASE_MARGIN


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _error_text(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason) or type(exc).__name__
    if "timed out" in text.lower() or "timeout" in type(reason).__name__.lower():
        text = f"Timed out after {_timeout():.0f} s"
    return text[:255]


# --- recording (the database thread) -----------------------------------------------------
def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1-based), with ±10 % jitter."""
    base = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    return base * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not a secret


def record(claimed: Claimed, answer: Answer) -> str:
    with transaction.atomic():
        return _record(claimed, answer, timezone.now())


def record_many(results: list[tuple[Claimed, Answer]]) -> list[str]:
    """Record several answers in one transaction (one commit for a batch)."""
    now = timezone.now()
    with transaction.atomic():
        return [_record(claimed, answer, now) for claimed, answer in results]


def _record(claimed: Claimed, answer: Answer, now: datetime) -> str:
    """One conditional UPDATE: only the holder of the lease records (a lease that ran
    out and was claimed again belongs to the new holder)."""
    attempts = claimed.attempts + 1
    fields: dict[str, object] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "status_code": answer.status_code,
        "latency_ms": answer.latency_ms,
        "response_body": answer.body[:BODY_KEPT],
        "error": answer.error,
        "lease_until": None,
        "lease_token": "",
    }
    if answer.ok:
        outcome = "delivered"
        fields |= {
            "status": Delivery.Status.SUCCEEDED,
            "delivered_at": now,
            "next_attempt_at": None,
        }
    elif attempts >= MAX_ATTEMPTS:
        outcome = "gave_up"
        fields |= {"status": Delivery.Status.FAILED, "next_attempt_at": None}
    else:
        outcome = "retrying"
        retry_at = now + retry_delay(attempts)
        fields |= {"status": Delivery.Status.PENDING, "next_attempt_at": retry_at}
    updated = Delivery.objects.filter(
        pk=claimed.delivery_id, lease_token=claimed.token, status=Delivery.Status.SENDING
    ).update(**fields)
    if not updated:
        return "lost_lease"
    if answer.ok:
        if claimed.endpoint_failing:
            WebhookEndpoint.objects.filter(
                pk=claimed.endpoint_id, failing_since__isnull=False
            ).update(failing_since=None)
    else:
        if outcome == "retrying":
            enqueue_with_transaction(deliver_webhooks, run_after=fields["next_attempt_at"])  # type: ignore[arg-type]
        _endpoint_failed(claimed.endpoint_id, now, gave_up=outcome == "gave_up")
    return outcome


def _endpoint_failed(endpoint_id: int, now: datetime, *, gave_up: bool) -> None:
    """Note the failure; disable the endpoint once it has failed everything for
    ``PAYLINKS_WEBHOOK_DISABLE_HOURS``, or a delivery used up its three days of retries."""
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    hours = settings.PAYLINKS_WEBHOOK_DISABLE_HOURS
    stamp = f"{now:%Y-%m-%d %H:%M} UTC"
    if gave_up:
        reason = f"Disabled automatically on {stamp}: a delivery failed every attempt for days."
        matching = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True)
    else:
        reason = f"Disabled automatically on {stamp}: every delivery failed for {hours} hours."
        matching = WebhookEndpoint.objects.filter(
            pk=endpoint_id, enabled=True, failing_since__lte=now - timedelta(hours=hours)
        )
    disabled = matching.update(enabled=False, disabled_reason=reason, updated_at=now)
    if disabled:
        endpoint = WebhookEndpoint.objects.select_related("merchant").get(pk=endpoint_id)
        _tell_owners(endpoint, reason)


def _tell_owners(endpoint: WebhookEndpoint, reason: str) -> None:
    owners = list(
        Membership.objects.filter(merchant=endpoint.merchant, role=Role.OWNER)
        .select_related("user")
        .values_list("user__email", flat=True)
    )
    base = settings.SITE_URL.rstrip("/")
    body = (
        f"Paylinks stopped sending webhooks to {endpoint.url} for {endpoint.merchant.name}.\n\n"
        f"{reason}\n\nEvents keep being recorded. Once the endpoint answers again, enable it "
        f"in the console and use “Replay since” to send what it missed:\n"
        f"{base}/admin/paylinks/webhookendpoint/{endpoint.pk}/change/\n"
    )
    mail.mail_queue(
        subject=f"Webhook endpoint disabled: {endpoint.url}"[:200],
        body=body,
        to=[e for e in owners if e],
    )
    logger.warning("Disabled webhook endpoint %s: %s", endpoint.pk, reason)


# --- the loop ----------------------------------------------------------------------------
def drain(*, seconds: float = DRAIN_SECONDS, threads: int | None = None) -> dict[str, int]:
    """Send every due delivery; returns counts by outcome. Stops claiming after
    ``seconds`` (the deliveries in flight still finish) and queues a follow-up task."""
    threads = threads or settings.PAYLINKS_WEBHOOK_THREADS
    counts: Counter[str] = Counter()
    stop_at = time.monotonic() + seconds
    in_flight: dict[Future[Answer], Claimed] = {}
    with ThreadPoolExecutor(threads, thread_name_prefix="paylinks-webhooks") as pool:
        while True:
            claiming = time.monotonic() < stop_at
            due = False
            # Claim in batches (when half the window is free): fewer claim queries.
            if claiming and len(in_flight) <= threads:
                claimed_now, due = _claim(2 * threads - len(in_flight))
                for claimed in claimed_now:
                    in_flight[pool.submit(send, claimed)] = claimed
            if not in_flight:
                if not due:
                    break
                # Due work that another worker holds (its endpoint at the cap, or locked
                # by that worker's claim just now): look again shortly.
                time.sleep(0.05)
                continue
            done, _ = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
            finished = [(in_flight.pop(future), future.result()) for future in done]
            if finished:
                counts.update(record_many(finished))
        if not claiming:
            enqueue_with_transaction(deliver_webhooks)
    return dict(counts)


@task()
def deliver_webhooks() -> dict[str, int]:
    """Wake-up task: send whatever deliveries are due (the outbox holds the work)."""
    return drain()


def wake() -> None:
    """Have a worker look for due deliveries once the caller's transaction commits."""
    enqueue_with_transaction(deliver_webhooks)


def resend(delivery: Delivery) -> None:
    """Queue one delivery again now (the console's "Resend"); same ``webhook-id``."""
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    wake()
