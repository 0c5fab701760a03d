"""Background work of the sandbox gateway: webhook delivery and delayed settlement."""

from __future__ import annotations

from datetime import datetime

from django.tasks import task

from paylinks.tasks import enqueue_with_transaction

from . import delivery, engine


@task()
def deliver_event(event_id: str) -> bool:
    return delivery.deliver(event_id)


@task()
def settle_intent(intent_id: str) -> bool:
    return engine.settle(intent_id)


def schedule_delivery(event_id: str) -> None:
    enqueue_with_transaction(deliver_event, event_id)


def schedule_settlement(intent_id: str, when: datetime | None) -> None:
    enqueue_with_transaction(settle_intent, intent_id, run_after=when)


def sweep() -> dict[str, int]:
    """Catch up on anything the queue missed: expiries, settlements, undelivered events."""
    result = engine.sweep()
    delivered = sum(delivery.deliver(event_id) for event_id in delivery.due_events())
    return {**result, "delivered": delivered}
