from __future__ import annotations

from datetime import datetime

from django.db.models import Case, CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from paylinks.fastsql import CompiledQuery
from paylinks.models import LinkState, Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.models.payments import COMPLETED_STATUSES


def with_state(qs: QuerySet[PaymentLink], now: datetime | None = None) -> QuerySet[PaymentLink]:
    """Annotate ``completed_count`` and ``state`` (the same rules as ``PaymentLink.state_at``)."""
    now = now or timezone.now()
    completed = (
        Payment.objects.filter(link=OuterRef("pk"), status__in=COMPLETED_STATUSES)
        .order_by()
        .values("link")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(completed_count=Coalesce(Subquery(completed), 0)).annotate(
        state=Case(
            When(is_active=False, then=Value(LinkState.INACTIVE.value)),
            When(expires_at__lte=now, then=Value(LinkState.EXPIRED.value)),
            When(
                Q(payment_limit__isnull=False) & Q(payment_limit__lte=F("completed_count")),
                then=Value(LinkState.SOLD_OUT.value),
            ),
            default=Value(LinkState.ACTIVE.value),
            output_field=CharField(),
        )
    )


def link_state(link: PaymentLink, now: datetime | None = None) -> LinkState:
    completed = getattr(link, "completed_count", None)
    if completed is None:
        # Only a limited link can sell out: an unlimited one never needs the count.
        completed = (
            link.payments.filter(status__in=COMPLETED_STATUSES).count()
            if link.payment_limit is not None
            else 0
        )
    return link.state_at(now or timezone.now(), completed)


def link_places_held(link: PaymentLink, now: datetime) -> int:
    """Payments that hold one of a limited link's places: completed ones, checkouts still
    open, and delayed payments still processing. Failed or expired ones hold none."""
    return (
        link.payments.filter(
            Q(status__in=COMPLETED_STATUSES)
            | Q(status=PaymentStatus.PENDING, expires_at__gt=now)
            | Q(status=PaymentStatus.PENDING, session_completed_at__isnull=False)
        )
        .order_by()
        .count()
    )


def link_get_public(slug: str) -> PaymentLink | None:
    """The link a customer opens by slug, with its merchant, or None.

    One indexed lookup; ``link_state`` counts completed payments only for limited links.
    This is the hottest read in Paylinks (every page view), measured in docs/scaling.md.
    """
    if not slug or len(slug) > 64:
        return None
    return _PUBLIC_LINK.first(slug)


def link_get_for_checkout(slug: str) -> PaymentLink | None:
    """The link a checkout is started for, with every column of it and its merchant."""
    if not slug or len(slug) > 64:
        return None
    return _CHECKOUT_LINK.first(slug)


#: What a customer's view of a link reads (``paylinks.api.public.link_data``): half the
#: columns of a link and its merchant, so the query is quicker to build and to read.
PUBLIC_LINK_FIELDS = (
    "slug", "title", "description", "currency", "amount_type", "amount",
    "custom_amount_min", "custom_amount_max", "custom_amount_preset", "expires_at",
    "payment_limit", "is_active", "inactive_message", "collect_name", "collect_phone",
    "collect_billing_address",
    "merchant__name", "merchant__brand_color", "merchant__logo", "merchant__support_email",
    "merchant__inactive_message",
)  # fmt: skip

# Built once per process (paylinks/fastsql.py): on these reads, compiling the SQL of a
# 20- to 40-column join cost more CPU than running it.
_PUBLIC_LINK = CompiledQuery(
    lambda slug: (
        PaymentLink.objects.select_related("merchant")
        .only(*PUBLIC_LINK_FIELDS)
        .filter(slug=slug)
        .order_by()  # the slug is unique: no ORDER BY, nothing to sort
    )[:1]
)
_CHECKOUT_LINK = CompiledQuery(
    lambda slug: PaymentLink.objects.select_related("merchant").filter(slug=slug).order_by()[:1]
)


def links_of_merchant(merchant: Merchant) -> QuerySet[PaymentLink]:
    """A merchant's links with their ``state``, newest first (the API's list)."""
    return with_state(PaymentLink.objects.filter(merchant=merchant)).order_by("-created_at", "-id")


def link_get_for_merchant(merchant: Merchant, slug: str) -> PaymentLink | None:
    """One of ``merchant``'s links by its id (the slug), with its state; None for any
    other merchant's link, so the caller cannot tell the two apart."""
    if not slug or len(slug) > 64:
        return None
    return links_of_merchant(merchant).filter(slug=slug).select_related("merchant").first()
