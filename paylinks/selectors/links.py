from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from paylinks import permissions
from paylinks.models import LinkState, Payment, PaymentLink
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


def links_visible_to(user: Any) -> QuerySet[PaymentLink]:
    return PaymentLink.objects.filter(merchant__in=permissions.visible_merchants(user))


def link_state(link: PaymentLink, now: datetime | None = None) -> LinkState:
    completed = getattr(link, "completed_count", None)
    if completed is None:
        completed = link.payments.filter(status__in=COMPLETED_STATUSES).count()
    return link.state_at(now or timezone.now(), completed)


def link_get_public(slug: str) -> PaymentLink | None:
    """The link a customer opens by slug, with its merchant, or None."""
    if not slug or len(slug) > 64:
        return None
    return with_state(PaymentLink.objects.select_related("merchant")).filter(slug=slug).first()
