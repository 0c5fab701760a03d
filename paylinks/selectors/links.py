from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from paylinks.fastsql import CompiledQuery
from paylinks.models import LinkState, Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.models.payments import COMPLETED_STATUSES


def with_state(
    qs: QuerySet[PaymentLink], now: datetime | None = None, *, counted: bool = False
) -> QuerySet[PaymentLink]:
    """Annotate ``completed_count`` (units sold: one per payment unless the link sells a
    quantity) and ``state`` (the same rules as ``PaymentLink.state_at``).

    ``counted`` reads the count from the link's ``units_sold`` (kept with every payment's
    change) instead of summing its payments: no cost per payment.
    """
    now = now or timezone.now()
    completed = F("units_sold") if counted else completed_count_of("pk")
    return qs.annotate(completed_count=completed).annotate(
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
        completed = units_sold(link) if link.payment_limit is not None else 0
    return link.state_at(now or timezone.now(), completed)


#: A web request opens a payment's checkout session within its gateway deadline
#: (PAYLINKS_GATEWAY_DEADLINE_SECONDS, 10 s): a payment still without one after this long
#: belongs to a request that died (a killed worker), and holds no place.
UNSTARTED_GRACE = timedelta(minutes=2)


def open_checkouts(now: datetime) -> Q:
    """Pending payments whose checkout the customer may still pay: open, not finished,
    and either with a session or still inside the request that is opening one."""
    return Q(
        Q(gateway_session_id__gt="") | Q(created_at__gt=now - UNSTARTED_GRACE),
        status=PaymentStatus.PENDING,
        session_completed_at__isnull=True,
        expires_at__gt=now,
    )


#: Delayed payments (SEPA) still processing: their places come back only if they fail.
PROCESSING = Q(status=PaymentStatus.PENDING, session_completed_at__isnull=False)


@dataclass(frozen=True)
class Places:
    """A limited link's places, counted in units (a payment holds as many places as the
    units it buys: one unless the link sells a quantity): ``completed`` units sold, every
    place ``held`` (completed, open checkouts, processing payments), and when the first
    open checkout expires."""

    completed: int
    held: int
    next_free_at: datetime | None


def link_places(link: PaymentLink, now: datetime) -> Places:
    """One query for a limited link's places. Failed, expired and canceled payments hold
    none, so their places come back."""
    completed = Q(status__in=COMPLETED_STATUSES)
    opened = open_checkouts(now)
    found = (
        link.payments.filter(completed | opened | PROCESSING)
        .order_by()
        .aggregate(
            completed=Sum("quantity", filter=completed),
            held=Sum("quantity"),
            next_free_at=Min("expires_at", filter=opened),
        )
    )
    return Places(found["completed"] or 0, found["held"] or 0, found["next_free_at"])


def link_places_held(link: PaymentLink, now: datetime) -> int:
    """Payments that hold one of a limited link's places (see ``link_places``)."""
    return link_places(link, now).held


def client_open_checkouts(link: PaymentLink, client_key: str, now: datetime) -> list[Payment]:
    """The open checkouts one client (``Payment.client_key``) holds on a link, oldest first."""
    return list(
        link.payments.filter(open_checkouts(now), client_key=client_key).order_by(
            "created_at", "pk"
        )
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
    "quantity_enabled", "quantity_min", "quantity_max",
    "payment_limit", "is_active", "inactive_message", "collect_name", "collect_phone",
    "collect_billing_address", "image", "image_width", "image_height",
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


def _completed_subquery(link: str = "pk") -> Subquery:
    """Units sold on the link at ``link`` (an outer reference), summed from its payments."""
    return Subquery(
        Payment.objects.filter(link=OuterRef(link), status__in=COMPLETED_STATUSES)
        .order_by()
        .values("link")
        .annotate(n=Sum("quantity"))
        .values("n")
    )


# The merchant API's hot read: the link, its merchant and its completed payments in one
# statement (the count is what ``state`` and ``completed_payments`` need).
_MERCHANT_LINK = CompiledQuery(
    lambda slug: (
        PaymentLink.objects.select_related("merchant")
        .filter(slug=slug)
        .annotate(completed_count=completed_count_of("pk"))
        .order_by()
    )[:1]
)


def completed_count_of(link: str) -> Coalesce:
    """``completed_count`` (units sold, 0 for none) of the link at ``link``: ``"pk"`` in a
    query of links, a path in another model's query (``access_token_and_link``)."""
    return Coalesce(_completed_subquery(link), 0)


def links_of_merchant(merchant: Merchant) -> QuerySet[PaymentLink]:
    """A merchant's links with their ``state``, newest first (the API's list)."""
    return with_state(PaymentLink.objects.filter(merchant=merchant)).order_by("-created_at", "-id")


def link_get_for_merchant(merchant: Merchant, slug: str) -> PaymentLink | None:
    """One of ``merchant``'s links by its id (the slug), with its merchant and its
    ``completed_count``; None for any other merchant's link, so the caller cannot tell the
    two apart. (The merchant API's hot read: one statement compiled once per process.)"""
    link = _MERCHANT_LINK.first(slug)
    if link is None or link.merchant_id != merchant.pk:
        return None
    return link


def link_completed_count(link: PaymentLink) -> int:
    """Units sold on ``link`` (payments that took money, each counting its quantity: one
    unless the link sells a quantity), counted once and kept on the link
    (``completed_count``, the name ``with_state`` annotates).

    The merchant API's link read runs this per request: the statement's text is built
    once per process (the ORM would compile it each time, for more CPU than the indexed
    count costs; docs/scaling.md).
    """
    known = getattr(link, "completed_count", None)
    if known is not None:
        return int(known)
    link.completed_count = units_sold(link)  # type: ignore[attr-defined]
    return link.completed_count  # type: ignore[attr-defined]


def units_sold(link: PaymentLink) -> int:
    """Units sold on ``link`` now (one statement, built once per process; not kept)."""
    with connection.cursor() as cursor:
        cursor.execute(_completed_sql(str(connection.vendor)), [link.pk, *_COMPLETED])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


_COMPLETED = sorted(COMPLETED_STATUSES)


@functools.cache
def _completed_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(_COMPLETED))
    table = q(Payment._meta.db_table)
    link_column = q(str(Payment._meta.get_field("link").column))
    status_column = q(str(Payment._meta.get_field("status").column))
    quantity_column = q(str(Payment._meta.get_field("quantity").column))
    # Only the model's own quoted identifiers are formatted in; values are parameters.
    return (
        f"SELECT COALESCE(SUM({quantity_column}), 0) FROM {table} "  # noqa: S608
        f"WHERE {link_column} = %s AND {status_column} IN ({marks})"
    )
