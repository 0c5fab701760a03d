"""The webhook inbox: every event stored once, then processed by workers, retried on failure.

The inbox row is the only thing written per event: it is the durable record that the
event needs processing. Web processes then wake the workers with a ``drain_inbox`` task,
at most twice per ``PAYLINKS_WEBHOOK_BATCH_MS`` each (see ``_Waker``), and a woken worker
processes every due event it can claim. If waking fails, the sweeper finds the events.

Processing hands the event to its handler (``paylinks.webhooks.handlers``). Duplicates,
out-of-order delivery and unknown types are normal traffic. A failed processing attempt
keeps the row with its error and is retried with backoff.

The payload is stored encrypted (``paylinks.crypto.EncryptedJSONField``), and finished
events are deleted ``PAYLINKS_WEBHOOK_RETENTION_DAYS`` after they finished
(``prune_finished``, run by the sweeper); unfinished ones are never deleted.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone

from paylinks import metrics
from paylinks.gateways import WebhookEvent
from paylinks.logcontext import carries_request_id, current_request_id, request_id_scope
from paylinks.models import User
from paylinks.models import WebhookEvent as InboxEvent
from paylinks.queueing import enqueue_with_transaction
from paylinks.services.audit import audit_record

from .handlers import HANDLERS, as_event

logger = logging.getLogger("paylinks.webhooks")

# Seconds before the n-th retry of an event whose processing failed.
RETRY_DELAYS = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]
LEASE_SECONDS = 120


def store_event(gateway_name: str, event: WebhookEvent) -> bool:
    """Insert the event once; True when it is new (and a worker has been woken for it).

    One statement, ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, and nothing else
    per event: a duplicate delivery (Stripe sends them) costs no exception, no savepoint
    and no second write, and a new event is one commit. This is the busiest write in
    Paylinks (docs/scaling.md). The payload goes in encrypted: the field's
    ``get_db_prep_save`` serialises it and encrypts it with the customer-data key.
    """
    payload = InboxEvent._meta.get_field("payload").get_db_prep_save(event.payload, connection)
    values = [gateway_name, event.id, event.type, event.object_id[:255], payload,
              InboxEvent.Status.PENDING, 0, "", timezone.now(), current_request_id()]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_insert_event_sql(), values)
        row = cursor.fetchone()
    if row is None:
        return False
    wake_workers()
    return True


INBOX_COLUMNS = ("gateway", "event_id", "type", "object_id", "payload", "status", "attempts",
                 "last_error", "received_at", "request_id")  # fmt: skip


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
    delay = _waker.wake_at()
    if delay is not None:
        # With the database task backend inside a caller's transaction, the task row
        # commits with the event; otherwise it is sent after the commit. If sending
        # fails, the event is safe in the inbox and the sweeper's next pass finds it.
        run_after = timezone.now() + timedelta(seconds=delay) if delay else None
        enqueue_with_transaction(drain_inbox, run_after=run_after)


# --- processing -------------------------------------------------------------------------
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
    """Process an event this worker has claimed (leased), under the request id of the
    delivery that stored it."""
    with request_id_scope(row.request_id or current_request_id()):
        outcome = _handle(row)
    metrics.webhook_processing.labels(outcome.split(":", 1)[0]).inc()
    return outcome


def _handle(row: InboxEvent) -> str:
    handler = HANDLERS.get(row.type)
    if handler is None:
        _finish(row, InboxEvent.Status.IGNORED, "")
        return f"ignored: {row.type} is not an event Paylinks acts on"
    try:
        outcome = handler(row, as_event(row))
    except Exception as exc:
        logger.exception(
            "Processing webhook event %s (%s) failed, attempt %s",
            row.event_id,
            row.type,
            row.attempts,
        )
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


def reprocess(inbox_id: int, *, actor: User | None = None) -> str:
    """Console action: process an event again now, whatever its state or schedule.

    A person's reprocessing is written to the audit log with what it did; the entry has
    no merchant (the inbox is the platform's), so platform staff read it.
    """
    InboxEvent.objects.filter(pk=inbox_id).update(
        status=InboxEvent.Status.PENDING, next_attempt_at=None, processed_at=None
    )
    outcome = process_inbox_event(inbox_id, force=True)
    row = InboxEvent.objects.filter(pk=inbox_id).first()
    if actor is not None and row is not None:
        audit_record(
            actor=actor,
            action="webhook.reprocessed",
            obj=row,
            merchant=None,
            changes={"outcome": outcome[:500]},
        )
    return outcome


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


@task()
@carries_request_id
def drain_inbox() -> dict[str, int]:
    """Process the webhook events that are due (web processes send this, batched)."""
    return drain()


# --- retention --------------------------------------------------------------------------
FINISHED = [InboxEvent.Status.PROCESSED, InboxEvent.Status.IGNORED]
PRUNE_BATCH = 500
PRUNE_BATCHES = 20


def prune_finished(*, now: datetime | None = None) -> int:
    """Delete events finished (processed or ignored) more than
    ``PAYLINKS_WEBHOOK_RETENTION_DAYS`` ago, oldest first; returns how many.

    Pending and failed events are never deleted. At most ``PRUNE_BATCHES`` batches of
    ``PRUNE_BATCH`` rows per call, each its own short statement, so a first run over a
    large backlog spreads over several sweeps instead of holding one long transaction.
    """
    days = settings.PAYLINKS_WEBHOOK_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = InboxEvent.objects.filter(status__in=FINISHED, processed_at__lt=cutoff)
    pruned = 0
    for _ in range(PRUNE_BATCHES):
        ids = list(old.order_by("processed_at").values_list("pk", flat=True)[:PRUNE_BATCH])
        if not ids:
            break
        # Re-checked in the DELETE: an event reprocessed meanwhile is pending again.
        deleted, _by_model = old.filter(pk__in=ids).delete()
        pruned += deleted
        if len(ids) < PRUNE_BATCH:
            break
    return pruned
