"""A mail backend that refuses its first ``failures`` messages, then delivers to the
locmem outbox: a mail server that is down for a while."""

from __future__ import annotations

import smtplib
from typing import Any

from django.core.mail.backends.locmem import EmailBackend


class FlakyBackend(EmailBackend):
    failures = 0

    def send_messages(self, messages: Any) -> int:
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)
