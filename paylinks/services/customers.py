"""Customers' personal details: support's audited reveal, and the e-mail search hashes.

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
from paylinks.privacy import email_lookup_hash

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


def customer_email_hashes_refresh(*, batch: int = 1000) -> int:
    """Recompute every payment's e-mail search hash, e.g. after ``PAYLINKS_EMAIL_HASH_KEY``
    (or the ``SECRET_KEY`` it is derived from) changed; returns how many changed. Reads
    each stored e-mail once; searches never do."""
    changed: list[Payment] = []
    count = 0
    rows = Payment.objects.only("pk", "customer_email", "customer_email_hash")
    for payment in rows.iterator(chunk_size=batch):
        digest = email_lookup_hash(payment.customer_email)
        if digest != payment.customer_email_hash:
            payment.customer_email_hash = digest
            changed.append(payment)
        if len(changed) >= batch:
            count += Payment.objects.bulk_update(changed, ["customer_email_hash"])
            changed = []
    if changed:
        count += Payment.objects.bulk_update(changed, ["customer_email_hash"])
    return count
