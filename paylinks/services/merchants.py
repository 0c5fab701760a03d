from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from paylinks import permissions
from paylinks.models import Membership, Merchant, Role, User
from paylinks.notifications.mail import mail_queue
from paylinks.queueing import enqueue_with_transaction

from .audit import audit_record, diff
from .rollups import rebuild_rollups

MERCHANT_FIELDS = frozenset(
    {
        "name",
        "brand_color",
        "logo",
        "default_currency",
        "timezone",
        "support_email",
        "inactive_message",
        "ga4_measurement_id",
        "ga4_api_secret",
    }
)
#: Changed, but never written into the audit log.
SECRET_FIELDS = frozenset({"ga4_api_secret"})


@transaction.atomic
def merchant_create(*, name: str, slug: str, owner: User | None = None, **fields: Any) -> Merchant:
    """Create a merchant (platform operators and demo data only), optionally with its owner."""
    merchant = Merchant(name=name, slug=slug, **fields)
    merchant.full_clean()
    merchant.save()
    audit_record(actor=None, action="merchant.created", obj=merchant, merchant=merchant)
    if owner is not None:
        Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    return merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, actor: User | None, **changes: Any) -> Merchant:
    unknown = set(changes) - MERCHANT_FIELDS
    if unknown:
        raise TypeError(f"merchant_update() cannot change {sorted(unknown)}")
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if actor is not None and not permissions.can_manage_team(actor, merchant):
        raise PermissionDenied("Only owners change the merchant's settings.")
    before = {f: getattr(merchant, f) for f in MERCHANT_FIELDS}
    for field, value in changes.items():
        setattr(merchant, field, value)
    merchant.full_clean()
    merchant.save()
    after = {f: getattr(merchant, f) for f in MERCHANT_FIELDS}
    if before["timezone"] != after["timezone"]:
        # Analytics days follow the reporting zone: recount them in the new one.
        enqueue_with_transaction(rebuild_rollups, merchant.pk)
    for field in SECRET_FIELDS:  # the audit log says a secret changed, never what it is
        old_value, new_value = before[field], after[field]
        before[field] = "(set)" if old_value else ""
        unchanged = new_value == old_value
        after[field] = before[field] if unchanged else ("(changed)" if new_value else "")
    if changed := diff(before, after):
        audit_record(
            actor=actor, action="merchant.updated", obj=merchant, merchant=merchant, changes=changed
        )
    return merchant


@transaction.atomic
def membership_add(*, merchant: Merchant, actor: User | None, email: str, role: str) -> Membership:
    """Give a person a role at ``merchant``; people without an account get one and an invitation."""
    _require_owner(actor, merchant)
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, manager or viewer."})
    user = User.objects.filter(email__iexact=email).first()
    invited = user is None
    if user is None:
        user = User.objects.create_user(email=email, password=None)
    if Membership.objects.filter(user=user, merchant=merchant).exists():
        raise ValidationError({"email": f"{email} is already a member of {merchant}."})
    membership = Membership.objects.create(user=user, merchant=merchant, role=role)
    audit_record(
        actor=actor,
        action="member.added",
        obj=membership,
        merchant=merchant,
        changes={"email": [None, email], "role": [None, role]},
    )
    if invited:
        transaction.on_commit(lambda: _send_invitation(user, merchant, actor))
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, actor: User | None, role: str) -> Membership:
    membership = (
        Membership.objects.select_for_update().select_related("merchant").get(pk=membership.pk)
    )
    _require_owner(actor, membership.merchant)
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, manager or viewer."})
    old = membership.role
    if old == Role.OWNER and role != Role.OWNER:
        _keep_an_owner(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    if old != role:
        audit_record(
            actor=actor,
            action="member.role_changed",
            obj=membership,
            merchant=membership.merchant,
            changes={"role": [old, role]},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None) -> None:
    membership = (
        Membership.objects.select_for_update()
        .select_related("merchant", "user")
        .get(pk=membership.pk)
    )
    _require_owner(actor, membership.merchant)
    if membership.role == Role.OWNER:
        _keep_an_owner(membership)
    audit_record(
        actor=actor,
        action="member.removed",
        obj=membership,
        merchant=membership.merchant,
        changes={"email": [membership.user.email, None], "role": [membership.role, None]},
    )
    membership.delete()


def _keep_an_owner(membership: Membership) -> None:
    # Lock every owner row of the merchant so two owners cannot demote each other at once.
    owners = list(
        Membership.objects.select_for_update()
        .filter(merchant=membership.merchant, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [membership.pk]:
        raise ValidationError(
            {"role": "A merchant needs at least one owner: make someone else owner first."}
        )


def _require_owner(actor: User | None, merchant: Merchant) -> None:
    if actor is not None and not permissions.can_manage_team(actor, merchant):
        raise PermissionDenied("Only owners manage the team.")


def _send_invitation(user: User, merchant: Merchant, actor: User | None) -> None:
    inviter = actor.email if actor is not None else "Paylinks"
    reset_url = settings.SITE_URL + reverse("account_reset_password")
    mail_queue(
        subject=f"You have been added to {merchant.name} on Paylinks",
        body=(
            f"{inviter} added you to {merchant.name} on Paylinks.\n\n"
            f"Choose a password for {user.email} here to sign in:\n{reset_url}\n"
        ),
        to=[user.email],
    )
