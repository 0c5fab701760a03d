"""A mail server that is down never fails a request (issue 10, finding 5).

With no reachable mail server, TOTP activation answered 500 after saving the device (the
owner never saw the recovery codes) and password reset answered 500. Every e-mail now
goes through the task queue (paylinks.notifications.mail): the page answers as usual,
the worker's attempt fails and is retried with back-off, and the message goes out once
a mail server accepts it.

Real SMTP on 127.0.0.1: first a port nothing listens on (connection refused), then an
aiosmtpd server started on that same port.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from paylinks.models import Role
from paylinks.notifications import mail as mailing
from paylinks.services.merchants import membership_add

from ..payments.helpers import drain
from .conftest import sign_in, totp_code, verified

pytestmark = pytest.mark.django_db(transaction=True)
SEND_EMAIL = "paylinks.notifications.mail.send_email"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


class MailServer:
    """The mail server's port: closed until ``start()``, then a real SMTP server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


@pytest.fixture
def mail_server(settings: Any) -> Iterator[MailServer]:
    server = MailServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def queued_mail() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=SEND_EMAIL).order_by("enqueued_at"))


def after_the_back_off() -> Any:
    """Time passes until the first retry is due (30 s after the failed attempt)."""
    return time_machine.travel(timezone.now() + mailing.RETRY_DELAYS[0] + timedelta(seconds=1))


def body_of(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    payload = part.get_payload(decode=True)  # type: ignore[union-attr]
    return payload.decode() if isinstance(payload, bytes) else str(payload)


def test_password_reset_answers_and_the_mail_goes_out_when_the_server_is_back(
    mail_server: MailServer, alice: Any, caplog: Any
) -> None:
    verified(alice)
    response = Client().post("/accounts/password/reset/", {"email": alice.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"

    with caplog.at_level(logging.WARNING, logger="paylinks.notifications.mail"):
        drain()  # the worker tries: connection refused
    assert "Could not send an e-mail (attempt 1 of 9" in caplog.text
    assert mail_server.inbox.messages == []
    attempts = queued_mail()
    assert [a.status for a in attempts] == ["SUCCESSFUL", "READY"]
    retry = attempts[1].args_kwargs["args"]
    assert retry[1] == 2
    assert attempts[1].run_after > timezone.now()  # backing off, not hammering the server
    drain()
    assert mail_server.inbox.messages == [] and queued_mail()[1].status == "READY"
    # The queued message is encrypted, reset link included.
    assert alice.email not in str(retry) and "reset" not in str(retry)

    mail_server.start()
    with after_the_back_off():
        drain()

    [sent] = mail_server.inbox.messages
    assert sent["To"] == alice.email
    assert re.search(r"/accounts/password/reset/key/\S+/", body_of(sent))
    assert [a.status for a in queued_mail()] == ["SUCCESSFUL"] * 2
    assert [a.return_value for a in queued_mail()] == ["retrying", "sent"]


def test_totp_set_up_shows_the_recovery_codes_while_mail_is_down(
    mail_server: MailServer, alice: Any, settings: Any
) -> None:
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True  # "TOTP was activated" is mailed
    verified(alice)
    client = Client()
    assert sign_in(client, alice.email).status_code == 302
    secret = client.get("/accounts/2fa/totp/activate/").context["form"].secret

    done = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})

    assert done.status_code == 302
    assert done["Location"] == "/accounts/2fa/recovery-codes/"
    codes = client.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    assert len(codes.context["unused_codes"]) == 10
    drain()
    assert queued_mail()[-1].status == "READY"  # the notice waits for a mail server

    mail_server.start()
    with after_the_back_off():
        drain()
    [notice] = mail_server.inbox.messages
    assert notice["To"] == alice.email


def test_an_invitation_is_sent_once_the_server_accepts_it(
    mail_server: MailServer, alice: Any, acme: Any
) -> None:
    membership_add(merchant=acme, actor=alice, email="nina@acme.test", role=Role.VIEWER)
    drain()
    assert mail_server.inbox.messages == []

    mail_server.start()
    with after_the_back_off():
        drain()
    [invitation] = mail_server.inbox.messages
    assert invitation["To"] == "nina@acme.test"
    assert "/accounts/password/reset/" in body_of(invitation)


def test_after_the_last_attempt_it_gives_up_loudly(mail_server: MailServer, caplog: Any) -> None:
    sealed = mailing.crypto.encrypt(
        '{"subject": "s", "body": "b", "from_email": null, "to": ["x@example.test"],'
        ' "cc": [], "bcc": [], "reply_to": [], "headers": {}, "alternatives": []}'
    )
    with caplog.at_level(logging.ERROR, logger="paylinks.notifications.mail"):
        outcome = mailing.send_email.call(sealed, mailing.MAX_ATTEMPTS)
    assert outcome == "gave up"
    assert "Gave up on an e-mail after 9 attempts" in caplog.text
    assert not DBTaskResult.objects.filter(task_path=SEND_EMAIL).exists()
