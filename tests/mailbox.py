"""Mail in tests: Paylinks queues every e-mail (paylinks.notifications.mail); the worker
sends it. ``sent_mail()`` does the worker's part for the queued e-mail that is due --
runs each ``send_email`` task in this thread and marks it done -- and returns
``django.core.mail.outbox``. (The database worker itself closes connections between
tasks, which a test running inside a transaction cannot allow; tests that run the real
worker use ``tests.payments.helpers.drain``.)"""

from __future__ import annotations

from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

SEND_EMAIL = "paylinks.notifications.mail.send_email"


def sent_mail() -> list[mail.EmailMessage]:
    for row in DBTaskResult.objects.ready().filter(task_path=SEND_EMAIL).order_by("enqueued_at"):
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now()
        )
    return list(mail.outbox)
