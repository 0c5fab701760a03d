"""Customers' personal details: support's audited reveal.

Support staff see customers masked (``paylinks.permissions``, ``paylinks.privacy``). To
help one customer they may reveal one payment's details for a few minutes, saying why;
the reveal is written to the audit log, where the merchant's owners read it too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from paylinks import permissions
from paylinks.models import Payment, User

from .audit import audit_record

REASON_MIN_LENGTH = 10


def reveal_minutes() -> int:
    return max(1, int(settings.PAYLINKS_REVEAL_MINUTES))


@transaction.atomic
def customer_reveal(*, payment: Payment, actor: User, reason: str) -> datetime:
    """Record that ``actor`` is shown ``payment``'s customer in full, and why; returns
    until when. Only someone who sees that merchant's customers masked may reveal."""
    reason = " ".join((reason or "").split())
    if not permissions.can_reveal_customer(actor, payment.merchant):
        raise PermissionDenied("You see this merchant's customers already, or not at all.")
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            {
                "reason": "Say why you need this customer's details "
                f"(at least {REASON_MIN_LENGTH} characters)."
            }
        )
    minutes = reveal_minutes()
    until = timezone.now() + timedelta(minutes=minutes)
    audit_record(
        actor=actor,
        action="payment.customer_revealed",
        obj=payment,
        merchant=payment.merchant,
        changes={"reason": reason[:500], "minutes": minutes},
    )
    return until
