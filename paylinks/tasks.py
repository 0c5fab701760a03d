"""Background tasks (Django's task framework) and the helper that enqueues them safely.

Tasks are enqueued only after the surrounding transaction commits, so a worker never
looks for a row that is not there yet. Anything that fails to enqueue is still recorded
in a durable table (the webhook inbox, the sandbox outbox), and the sweeper picks it up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.tasks import Task, task

logger = logging.getLogger(__name__)


def enqueue_after_commit(
    task_: Task[Any, Any], *args: Any, run_after: datetime | None = None
) -> None:
    def enqueue() -> None:
        try:
            if run_after is None:
                task_.enqueue(*args)
            elif task_.get_backend().supports_defer:
                task_.using(run_after=run_after).enqueue(*args)
            # A backend that cannot defer (the in-process one) leaves deferred work to the
            # sweeper, which finds it through the durable tables.
        except Exception:
            logger.exception("Could not enqueue %s%r; the sweeper will retry it", task_.name, args)

    transaction.on_commit(enqueue)


@task()
def process_webhook_event(inbox_id: int) -> str:
    from paylinks.webhooks import process_inbox_event

    return process_inbox_event(inbox_id)


@task()
def sweep() -> dict[str, int]:
    from paylinks.services.reconcile import sweep as run_sweep

    return run_sweep()


@task()
def refund_over_limit_payment(payment_id: int) -> str:
    from paylinks.services.refunds import refund_over_limit

    return refund_over_limit(payment_id)
