"""Which payment e-mails a team member gets: set by the member, or by an owner."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from paylinks import permissions
from paylinks.models import Membership, User

from .audit import audit_record


@transaction.atomic
def membership_set_notifications(
    *, membership: Membership, actor: User, notify_payments: bool, notify_failures: bool
) -> Membership:
    """Opt a member in or out of "new payment" and "payment failed" e-mails."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("merchant", "user")
        .get(pk=membership.pk)
    )
    if membership.user_id != actor.pk and not permissions.can_manage_team(
        actor, membership.merchant
    ):
        raise PermissionDenied("Only the member or an owner changes these e-mails.")
    before = {
        "notify_payments": membership.notify_payments,
        "notify_failures": membership.notify_failures,
    }
    membership.notify_payments, membership.notify_failures = notify_payments, notify_failures
    membership.save(update_fields=["notify_payments", "notify_failures"])
    changes = {
        k: [v, getattr(membership, k)] for k, v in before.items() if getattr(membership, k) != v
    }
    if changes:
        audit_record(
            actor=actor,
            action="member.notifications_changed",
            obj=membership,
            merchant=membership.merchant,
            changes=changes,
        )
    return membership
