"""Outgoing e-mail: queued with the transaction that causes it, sent by the worker,
retried with back-off, and never the reason a request fails.

Everything Paylinks mails goes through ``mail_queue`` (or ``mail_queue_message`` for a
message already built, like allauth's): sign-in codes and password resets, MFA
notices, team invitations, the over-limit refund notice. The web request only stores
a task; the worker's ``send_email`` hands the message to ``EMAIL_BACKEND``. When the
mail server refuses or cannot be reached the task schedules itself again after
``RETRY_DELAYS`` (30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h: about a day in
all), then gives up with an error in the log (logger ``paylinks.notifications.mail``).

A queued message can hold a password-reset link or a customer's address, so it is
stored encrypted with the customer-data key (``FIELD_ENCRYPTION_KEY``) in the task's
arguments, like the customer fields of a payment.
"""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import timedelta
from typing import Any, Final

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.tasks import task
from django.utils import timezone

from paylinks import crypto
from paylinks.logcontext import carries_request_id
from paylinks.queueing import enqueue_with_transaction

logger = logging.getLogger(__name__)

#: How long to wait before each new attempt; one attempt more than there are delays.
RETRY_DELAYS: Final = tuple(
    timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1

#: What a mail server that refuses, hangs up, times out or is not there raises.
TRANSIENT = (smtplib.SMTPException, OSError)


def mail_queue(
    *, subject: str, body: str, to: list[str], html: str = "", reply_to: list[str] | None = None
) -> None:
    """Queue a plain-text e-mail (with an HTML alternative, if given) from
    ``DEFAULT_FROM_EMAIL``. It is sent once the caller's transaction commits."""
    _enqueue(
        {
            "subject": subject,
            "body": body,
            "from_email": None,
            "to": list(to),
            "cc": [],
            "bcc": [],
            "reply_to": list(reply_to or []),
            "headers": {},
            "alternatives": [[html, "text/html"]] if html else [],
        }
    )


def mail_queue_message(message: EmailMessage) -> None:
    """Queue a message someone else built (allauth renders its own). Attachments are
    not carried: nothing Paylinks sends has any."""
    if message.attachments:
        raise ValueError("Queued e-mail cannot carry attachments")
    _enqueue(
        {
            "subject": str(message.subject),
            "body": str(message.body),
            "from_email": message.from_email,
            "to": list(message.to),
            "cc": list(message.cc),
            "bcc": list(message.bcc),
            "reply_to": list(message.reply_to),
            "headers": {str(k): str(v) for k, v in (message.extra_headers or {}).items()},
            "alternatives": [
                [str(content), str(mimetype)]
                for content, mimetype in getattr(message, "alternatives", [])
            ],
        }
    )


def _enqueue(data: dict[str, Any]) -> None:
    if not data["to"] and not data["cc"] and not data["bcc"]:
        return
    enqueue_with_transaction(send_email, crypto.encrypt(json.dumps(data)), 1)


@task()
@carries_request_id
def send_email(sealed: str, attempt: int = 1) -> str:
    """Send one queued e-mail; on a transient failure, queue the next attempt."""
    data = json.loads(crypto.decrypt(sealed, where="a queued e-mail"))
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    try:
        message.send()
    except TRANSIENT as exc:
        return _retry_later(sealed, attempt, exc)
    logger.info("Sent e-mail %r (attempt %d)", data["subject"], attempt)
    return "sent"


def _retry_later(sealed: str, attempt: int, exc: Exception) -> str:
    if attempt >= MAX_ATTEMPTS:
        logger.error(
            "Gave up on an e-mail after %d attempts: %s: %s",
            attempt,
            type(exc).__name__,
            exc,
        )
        return "gave up"
    delay = RETRY_DELAYS[attempt - 1]
    if not send_email.get_backend().supports_defer:
        logger.error(
            "Could not send an e-mail, and the task backend cannot schedule a retry: %s: %s",
            type(exc).__name__,
            exc,
        )
        return "failed"
    logger.warning(
        "Could not send an e-mail (attempt %d of %d, next in %s): %s: %s",
        attempt,
        MAX_ATTEMPTS,
        delay,
        type(exc).__name__,
        exc,
    )
    enqueue_with_transaction(send_email, sealed, attempt + 1, run_after=timezone.now() + delay)
    return "retrying"
