"""Enqueueing background tasks (Django's task framework) safely, from any layer.

Tasks live beside the code they run (``drain_inbox`` in ``paylinks.webhooks.inbox``,
``refund_over_limit_payment`` in ``paylinks.services.refunds``, ...); this module only
sends them, so a service can enqueue work without importing the worker's modules.

A task exists exactly when the transaction that asked for it commits:

- with the database backend (the default, django-tasks-db) the task row is written in the
  caller's own transaction, so it commits or rolls back together with the rows it is about
  (one WAL flush, not two);
- backends outside the database (RQ on Redis) are sent after the commit, so a worker never
  looks for a row that is not there yet. If sending fails, the work is still recorded in a
  durable table (the webhook inbox, the sandbox outbox) and the sweeper picks it up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.tasks import Task
from django_tasks_db.backend import DatabaseBackend

from paylinks.logcontext import current_request_id

logger = logging.getLogger(__name__)


def enqueue_with_transaction(
    task_: Task[Any, Any], *args: Any, run_after: datetime | None = None
) -> None:
    backend = task_.get_backend()
    if isinstance(backend, DatabaseBackend) and transaction.get_connection().in_atomic_block:
        _send(task_, args, run_after)  # an error here rolls the caller's transaction back
        return

    def send_after_commit() -> None:
        try:
            _send(task_, args, run_after)
        except Exception:
            logger.exception("Could not enqueue %s%r; the sweeper will retry it", task_.name, args)

    transaction.on_commit(send_after_commit)


def _send(task_: Task[Any, Any], args: tuple[Any, ...], run_after: datetime | None) -> None:
    kwargs = request_id_kwargs(task_)
    if run_after is None:
        task_.enqueue(*args, **kwargs)
    elif task_.get_backend().supports_defer:
        task_.using(run_after=run_after).enqueue(*args, **kwargs)
    # A backend that cannot defer (the in-process one) leaves deferred work to the
    # sweeper, which finds it through the durable tables.


def request_id_kwargs(task_: Task[Any, Any]) -> dict[str, str]:
    """The current request id, for a task that carries it (``paylinks.logcontext``)."""
    request_id = current_request_id()
    if request_id and getattr(task_.func, "carries_request_id", False):
        return {"request_id": request_id}
    return {}
