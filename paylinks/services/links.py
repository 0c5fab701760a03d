from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from paylinks import permissions
from paylinks.models import (
    AfterPayment,
    AmountType,
    ApiClient,
    EventType,
    Merchant,
    OutgoingEvent,
    PaymentLink,
    User,
)
from paylinks.notifications import outbox

from .audit import audit_record, diff

# What a merchant sets on a link, in the order the forms show it.
LINK_FIELDS = (
    "title", "description", "currency", "amount_type", "amount", "custom_amount_min",
    "custom_amount_max", "custom_amount_preset", "quantity_enabled", "quantity_min",
    "quantity_max", "expires_at", "payment_limit",
    "inactive_message", "after_payment", "confirmation_message", "redirect_url",
    "collect_name", "collect_phone", "collect_billing_address", "metadata", "image",
)  # fmt: skip
# What a merchant may change on an existing link: all of it. (Currency only until the
# first payment: after that, the link's history would mix currencies.)
UPDATABLE_FIELDS = frozenset(LINK_FIELDS)


@transaction.atomic
def payment_link_create(
    *,
    merchant: Merchant,
    actor: User | None,
    title: str,
    currency: str,
    amount: int | None = None,
    amount_type: str = AmountType.FIXED,
    description: str = "",
    custom_amount_min: int | None = None,
    custom_amount_max: int | None = None,
    custom_amount_preset: int | None = None,
    quantity_enabled: bool = False,
    quantity_min: int = 1,
    quantity_max: int | None = None,
    expires_at: datetime | None = None,
    payment_limit: int | None = None,
    inactive_message: str = "",
    after_payment: str = AfterPayment.MESSAGE,
    confirmation_message: str = "",
    redirect_url: str = "",
    collect_name: bool = False,
    collect_phone: bool = False,
    collect_billing_address: bool = False,
    metadata: dict[str, str] | None = None,
    image: File | str | None = None,
    api_client: ApiClient | None = None,
) -> PaymentLink:
    """Create a payment link; amounts are in minor units and checked against money rules.

    ``api_client``: the merchant API client making the change (``actor`` is then None).
    ``image``: an uploaded product image (PNG, JPEG or WebP by its first bytes, checked
    by the model), stored under a fresh random name.
    """
    _require_write(actor, merchant, api_client)
    link = PaymentLink(
        merchant=merchant,
        created_by=actor if actor is not None and actor.pk else None,
        title=title,
        description=description,
        currency=currency.upper(),
        amount_type=amount_type,
        amount=amount,
        custom_amount_min=custom_amount_min,
        custom_amount_max=custom_amount_max,
        custom_amount_preset=custom_amount_preset,
        quantity_enabled=quantity_enabled,
        quantity_min=quantity_min,
        quantity_max=quantity_max,
        expires_at=expires_at,
        payment_limit=payment_limit,
        inactive_message=inactive_message,
        after_payment=after_payment,
        confirmation_message=confirmation_message,
        redirect_url=redirect_url,
        collect_name=collect_name,
        collect_phone=collect_phone,
        collect_billing_address=collect_billing_address,
        metadata=metadata or {},
        image=image or "",
    )
    # Every rule is checked here, with its message. Not the database-backed checks as
    # well: the slug is 144 random bits (its unique index still guards it), the table's
    # check constraints repeat what clean() checks, and the two foreign keys point at
    # objects the caller already holds (the merchant, the signed-in person), which
    # Django's ForeignKey.validate would look up again; each would be one more query per
    # new link (the merchant API's POST /links, docs/scaling.md).
    link.full_clean(
        exclude=["merchant", "created_by"], validate_unique=False, validate_constraints=False
    )
    link.save()
    audit_record(
        actor=actor,
        action="link.created",
        obj=link,
        merchant=merchant,
        changes=diff({}, _snapshot(link)),
        api_client=api_client,
    )
    return link


@transaction.atomic
def payment_link_update(
    *, link: PaymentLink, actor: User | None, api_client: ApiClient | None = None, **changes: Any
) -> PaymentLink:
    """Change a link's fields. Unknown fields are a programming error, not user input."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"payment_link_update() cannot change {sorted(unknown)}")
    link = PaymentLink.objects.select_for_update().get(pk=link.pk)
    _require_write(actor, link.merchant, api_client)
    before = _snapshot(link)
    if "image" in changes and not changes["image"]:
        changes["image"] = ""  # None, or False from a form's "clear": no image
    for field, value in changes.items():
        setattr(link, field, value)
    if "currency" in changes:
        link.currency = str(link.currency).upper()
        if link.currency != before["currency"] and link.payments.exists():
            raise ValidationError(
                {"currency": "This link already has payments, so its currency cannot change."}
            )
    link.full_clean()
    link.save()
    after = _snapshot(link)
    if before["image"] and before["image"] != after["image"]:
        # The replaced image is nobody's now (every upload has a name of its own).
        old = before["image"]
        transaction.on_commit(lambda: default_storage.delete(old))
    if changed := diff(before, after):
        audit_record(
            actor=actor,
            action="link.updated",
            obj=link,
            merchant=link.merchant,
            changes=changed,
            api_client=api_client,
        )
    return link


@transaction.atomic
def payment_link_deactivate(
    *,
    link: PaymentLink,
    actor: User | None,
    message: str | None = None,
    api_client: ApiClient | None = None,
) -> PaymentLink:
    """Stop a link from accepting payments; customers see ``message`` (or the default)."""
    link = PaymentLink.objects.select_for_update().get(pk=link.pk)
    _require_write(actor, link.merchant, api_client)
    before = _snapshot(link)
    link.is_active = False
    if message is not None:
        link.inactive_message = message
    link.save(update_fields=["is_active", "inactive_message", "updated_at"])
    if before["is_active"]:
        outbox.link_event(link, EventType.LINK_DEACTIVATED)
    if changed := diff(before, _snapshot(link)):
        audit_record(
            actor=actor,
            action="link.deactivated",
            obj=link,
            merchant=link.merchant,
            changes=changed,
            api_client=api_client,
        )
    return link


@transaction.atomic
def payment_link_activate(
    *, link: PaymentLink, actor: User | None, api_client: ApiClient | None = None
) -> PaymentLink:
    link = PaymentLink.objects.select_for_update().get(pk=link.pk)
    _require_write(actor, link.merchant, api_client)
    if not link.is_active:
        link.is_active = True
        link.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="link.activated",
            obj=link,
            merchant=link.merchant,
            changes={"is_active": [False, True]},
            api_client=api_client,
        )
    return link


def _require_write(actor: User | None, merchant: Merchant, api_client: ApiClient | None) -> None:
    # actor=None means the system itself (demo data, tasks) or an API client: no person
    # to check. An API client changes only its own merchant's links, and only while active.
    if actor is not None and not permissions.can_write(actor, merchant):
        raise PermissionDenied("You cannot change this merchant's payment links.")
    if api_client is not None and not permissions.client_can_write(api_client, merchant):
        raise PermissionDenied("This API client cannot change this merchant's payment links.")


def _snapshot(link: PaymentLink) -> dict[str, Any]:
    values = {field: getattr(link, field) for field in UPDATABLE_FIELDS}
    values["image"] = link.image.name or ""  # the stored name, not the file object
    values["is_active"] = link.is_active
    return values


#: How far back the sweeper looks for links that expired without their event.
EXPIRY_LOOKBACK = timedelta(days=7)


def links_announce_expired() -> int:
    """Write ``link.expired`` for links whose expiry passed since the last sweep.

    A link expires by the clock, not by a write, so the sweeper notices it: once per
    expiry (an event about the link newer than its expiry date means it was told), for
    expiries in the last ``EXPIRY_LOOKBACK``. Returns how many events were written.
    """
    now = timezone.now()
    told = OutgoingEvent.objects.filter(
        type=EventType.LINK_EXPIRED,
        object_id=OuterRef("slug"),
        created_at__gte=OuterRef("expires_at"),
    )
    due = PaymentLink.objects.filter(
        expires_at__lte=now, expires_at__gt=now - EXPIRY_LOOKBACK, is_active=True
    ).filter(~Exists(told))
    written = 0
    for link_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            link = PaymentLink.objects.select_for_update().get(pk=link_id)
            if link.expires_at is None or link.expires_at > now:
                continue
            if OutgoingEvent.objects.filter(
                type=EventType.LINK_EXPIRED, object_id=link.slug, created_at__gte=link.expires_at
            ).exists():
                continue
            outbox.link_event(link, EventType.LINK_EXPIRED)
            written += 1
    return written
