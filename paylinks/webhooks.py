"""The webhook pipeline, one path for every gateway.

    verify the signature on the raw body -> store the event in the inbox (unique per
    gateway and event id) -> answer 200 -> workers drain the inbox in batches

The inbox row is the only thing written per event: it is the durable record that the
event needs processing. Web processes then wake the workers with a ``drain_inbox`` task,
at most twice per ``PAYLINKS_WEBHOOK_BATCH_MS`` each (see ``_Waker``), and a woken worker
processes every due event it can claim. If waking fails, the sweeper finds the events.

Processing re-retrieves the checkout session from the gateway and hands it to
``payment_sync``; the event's payload is only used to find which payment it is about.
Duplicates, out-of-order delivery and unknown types are normal traffic. A failed
processing attempt keeps the row with its error and is retried with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from paylinks.gateways import SignatureError, WebhookEvent, get_gateway
from paylinks.models import Payment
from paylinks.models import WebhookEvent as InboxEvent
from paylinks.services.payments import payment_sync, record_failed_attempt

logger = logging.getLogger(__name__)

# Seconds before the n-th retry of an event whose processing failed.
RETRY_DELAYS = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]
LEASE_SECONDS = 120
MAX_BODY_BYTES = 512 * 1024


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """``POST /webhooks/stripe/``: where Stripe and the sandbox deliver their events."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        return _error(400, "payload_too_large", "The event body is too large.")
    gateway = get_gateway()
    try:
        event = gateway.parse_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except SignatureError as exc:
        logger.warning("Rejected webhook: %s", exc)
        return _error(400, "invalid_signature", "The webhook signature could not be verified.")
    try:
        created = store_event(gateway.name, event)
    except DatabaseError:
        logger.exception("Could not store webhook event %s", event.id)
        # Non-2xx: the gateway keeps the event and delivers it again later.
        return _error(503, "unavailable", "The event could not be stored; retry later.")
    return JsonResponse({"received": True, "duplicate": not created}, status=200)


def store_event(gateway_name: str, event: WebhookEvent) -> bool:
    """Insert the event once; True when it is new (and a worker has been woken for it).

    One statement, ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, and nothing else
    per event: a duplicate delivery (Stripe sends them) costs no exception, no savepoint
    and no second write, and a new event is one commit. This is the busiest write in
    Paylinks (docs/scaling.md).
    """
    payload = InboxEvent._meta.get_field("payload").get_db_prep_save(event.payload, connection)
    values = [gateway_name, event.id, event.type, event.object_id[:255], payload,
              InboxEvent.Status.PENDING, 0, "", timezone.now()]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_insert_event_sql(), values)
        row = cursor.fetchone()
    if row is None:
        return False
    wake_workers()
    return True


INBOX_COLUMNS = ("gateway", "event_id", "type", "object_id", "payload", "status", "attempts",
                 "last_error", "received_at")  # fmt: skip


def _insert_event_sql() -> str:
    """The inbox INSERT: only quoted identifiers from the model are formatted in."""
    q = connection.ops.quote_name
    return (
        f"INSERT INTO {q(InboxEvent._meta.db_table)} ({', '.join(map(q, INBOX_COLUMNS))}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(INBOX_COLUMNS))}) "
        f"ON CONFLICT ({q('gateway')}, {q('event_id')}) DO NOTHING RETURNING {q('id')}"
    )


class _Waker:
    """Wakes the workers for newly stored events without a task per event.

    Per web process and per window of ``PAYLINKS_WEBHOOK_BATCH_MS``: the first event of a
    window sends a ``drain_inbox`` task to run now; the first later event in the same
    window sends one to run when the window ends; the rest of the window's events send
    nothing, because that deferred task has not started yet and will find them. So no
    event waits longer than one window, and a busy process sends at most two tasks per
    window instead of one per event. With a window of 0, or a task backend that cannot
    defer, every event sends its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window_ends = 0.0  # time.monotonic()
        self._deferred_sent = True

    def wake_at(self) -> float | None:
        """When the drain task for an event stored now should run: 0.0 for "now", a
        delay in seconds, or None when an already sent task will find the event."""
        from paylinks.tasks import drain_inbox

        window = settings.PAYLINKS_WEBHOOK_BATCH_MS / 1000
        if window <= 0 or not drain_inbox.get_backend().supports_defer:
            return 0.0
        now = time.monotonic()
        with self._lock:
            if now >= self._window_ends:
                self._window_ends, self._deferred_sent = now + window, False
                return 0.0
            if not self._deferred_sent:
                self._deferred_sent = True
                return self._window_ends - now
            return None


_waker = _Waker()


def wake_workers() -> None:
    """Send a ``drain_inbox`` task if this process owes one (see ``_Waker``)."""
    from paylinks.tasks import drain_inbox, enqueue_with_transaction

    delay = _waker.wake_at()
    if delay is not None:
        # With the database task backend inside a caller's transaction, the task row
        # commits with the event; otherwise it is sent after the commit. If sending
        # fails, the event is safe in the inbox and the sweeper's next pass finds it.
        run_after = timezone.now() + timedelta(seconds=delay) if delay else None
        enqueue_with_transaction(drain_inbox, run_after=run_after)


# --- processing -------------------------------------------------------------------------
Handler = Callable[[InboxEvent, WebhookEvent], str]


def _as_event(row: InboxEvent) -> WebhookEvent:
    data = row.payload
    return WebhookEvent(
        id=row.event_id,
        type=row.type,
        created=int(data.get("created") or 0),
        data_object=(data.get("data") or {}).get("object") or {},
        payload=data,
    )


def _payment_for_object(gateway: str, obj: dict) -> Payment | None:
    """Find the payment an event is about: by session id, intent id or our metadata."""
    metadata = obj.get("metadata") or {}
    query = Q()
    if obj.get("object") == "checkout.session" and obj.get("id"):
        query |= Q(gateway_session_id=obj["id"])
    if obj.get("object") == "payment_intent" and obj.get("id"):
        query |= Q(payment_intent_id=obj["id"])
    if obj.get("object") == "charge" and obj.get("payment_intent"):
        query |= Q(payment_intent_id=obj["payment_intent"])
    public_id = metadata.get("paylinks_payment") or obj.get("client_reference_id")
    if public_id:
        query |= Q(public_id=public_id)
    if not query:
        return None
    return Payment.objects.filter(query, gateway=gateway).first()


def _sync_session(row: InboxEvent, event: WebhookEvent) -> str:
    payment = _payment_for_object(row.gateway, event.data_object)
    if payment is None:
        return "ignored: not a Paylinks payment"
    session_id = payment.gateway_session_id or event.object_id
    session = get_gateway(row.gateway).retrieve_checkout_session(session_id)
    if not payment.gateway_session_id:
        Payment.objects.filter(pk=payment.pk, gateway_session_id="").update(
            gateway_session_id=session.id
        )
    synced = payment_sync(payment=payment, session=session, gateway_event_id=event.id)
    return f"processed: {synced.public_id} is {synced.status}"


def _sync_by_payment(row: InboxEvent, event: WebhookEvent) -> str:
    payment = _payment_for_object(row.gateway, event.data_object)
    if payment is None or not payment.gateway_session_id:
        return "ignored: not a Paylinks payment"
    session = get_gateway(row.gateway).retrieve_checkout_session(payment.gateway_session_id)
    synced = payment_sync(payment=payment, session=session, gateway_event_id=event.id)
    return f"processed: {synced.public_id} is {synced.status}"


def _attempt_failed(row: InboxEvent, event: WebhookEvent) -> str:
    payment = _payment_for_object(row.gateway, event.data_object)
    if payment is None:
        return "ignored: not a Paylinks payment"
    error = event.data_object.get("last_payment_error") or {}
    code = str(error.get("decline_code") or error.get("code") or "payment_failed")
    record_failed_attempt(
        payment=payment,
        code=code,
        message=str(error.get("message") or ""),
        gateway_event_id=event.id,
    )
    return f"processed: attempt on {payment.public_id} failed ({code})"


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _sync_session,
    "checkout.session.async_payment_succeeded": _sync_session,
    "checkout.session.async_payment_failed": _sync_session,
    "checkout.session.expired": _sync_session,
    "charge.refunded": _sync_by_payment,
    "payment_intent.payment_failed": _attempt_failed,
}


UNFINISHED = Q(status__in=[InboxEvent.Status.PENDING, InboxEvent.Status.FAILED])


def _due(now: datetime) -> Q:
    """Unfinished, and not leased or waiting for a retry."""
    return UNFINISHED & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _lease(now: datetime) -> dict[str, object]:
    return {
        "next_attempt_at": now + timedelta(seconds=LEASE_SECONDS),
        "attempts": F("attempts") + 1,
    }


def _claim(inbox_id: int, *, force: bool = False) -> InboxEvent | None:
    """Lease an unfinished event for this worker, so no two workers process it at once."""
    now = timezone.now()
    claimed = InboxEvent.objects.filter(UNFINISHED if force else _due(now), pk=inbox_id).update(
        **_lease(now)
    )
    return InboxEvent.objects.get(pk=inbox_id) if claimed else None


def process_inbox_event(inbox_id: int, *, force: bool = False) -> str:
    """Process one stored event; returns what happened, for logs and the console."""
    row = _claim(inbox_id, force=force)
    if row is None:
        return "skipped: already processed or being processed"
    return _process(row)


def _process(row: InboxEvent) -> str:
    """Process an event this worker has claimed (leased)."""
    handler = HANDLERS.get(row.type)
    if handler is None:
        _finish(row, InboxEvent.Status.IGNORED, "")
        return f"ignored: {row.type} is not an event Paylinks acts on"
    try:
        outcome = handler(row, _as_event(row))
    except Exception as exc:
        logger.exception("Processing webhook event %s failed", row.event_id)
        delay = RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
        InboxEvent.objects.filter(pk=row.pk).update(
            status=InboxEvent.Status.FAILED,
            last_error=f"{exc.__class__.__name__}: {exc}\n\n{traceback.format_exc()}"[:10000],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        return f"failed: {exc.__class__.__name__}: {exc}"
    status = (
        InboxEvent.Status.IGNORED if outcome.startswith("ignored") else InboxEvent.Status.PROCESSED
    )
    _finish(row, status, "")
    return outcome


def _finish(row: InboxEvent, status: str, error: str) -> None:
    InboxEvent.objects.filter(pk=row.pk).update(
        status=status, last_error=error, processed_at=timezone.now(), next_attempt_at=None
    )


def reprocess(inbox_id: int) -> str:
    """Console action: process an event again now, whatever its state or schedule."""
    InboxEvent.objects.filter(pk=inbox_id).update(
        status=InboxEvent.Status.PENDING, next_attempt_at=None, processed_at=None
    )
    return process_inbox_event(inbox_id, force=True)


def _claim_batch(limit: int) -> list[InboxEvent]:
    """Lease up to ``limit`` due events for this worker, oldest first.

    On PostgreSQL rows another worker is claiming at the same moment are skipped (``SKIP
    LOCKED``), so workers draining together split the inbox instead of queueing on it;
    SQLite's transactions take the write lock when they begin (``transaction_mode
    IMMEDIATE``), so there two claims never interleave.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            InboxEvent.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        InboxEvent.objects.filter(pk__in=ids).update(**_lease(now))
    return list(InboxEvent.objects.filter(pk__in=ids).order_by("received_at"))


def drain(*, batch: int = 20, budget_seconds: float = 30.0) -> dict[str, int]:
    """Process due inbox events until none is left (what a woken worker does).

    Stops after ``budget_seconds`` and hands the rest to a new ``drain_inbox`` task, so a
    long backlog is shared with the other workers and never starves their other tasks.
    """
    from paylinks.tasks import drain_inbox

    counts: dict[str, int] = {}
    started = time.monotonic()
    while rows := _claim_batch(batch):
        for row in rows:
            outcome = _process(row).split(":", 1)[0]
            counts[outcome] = counts.get(outcome, 0) + 1
        if time.monotonic() - started > budget_seconds:
            drain_inbox.enqueue()
            break
    return counts
