"""Merchant-scoped aggregates for the console's home page and analytics.

Plain data in, plain data out: callers pass the merchants a person may see (from
``paylinks.permissions``) and get dataclasses back. Amounts stay in minor units with
their currency beside them; amounts in different currencies are never added together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from paylinks.models import LinkState, Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.selectors.links import with_state

# Attempts that reached an outcome. Pending ones are still open and do not count yet.
FINISHED_STATUSES = frozenset(
    {*COMPLETED_STATUSES, PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELED}
)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount: int
    """Money taken, in minor units of ``currency`` (before refunds)."""
    refunded: int
    count: int

    @property
    def net(self) -> int:
        return self.amount - self.refunded


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class Overview:
    since: datetime
    days: int
    received: list[CurrencyTotal]
    """One entry per currency, busiest first."""
    by_status: list[StatusCount]
    """Every status, in lifecycle order, zeros included."""
    paid_count: int
    finished_count: int
    active_links: int
    links: int
    links_by_state: list[StatusCount]
    """Every link state, zeros included."""

    @property
    def success_rate(self) -> float | None:
        """Paid share of the attempts that finished; None before any has."""
        if not self.finished_count:
            return None
        return self.paid_count / self.finished_count

    @property
    def payment_count(self) -> int:
        return sum(s.count for s in self.by_status)


def payments_of(merchants: QuerySet[Merchant]) -> QuerySet[Payment]:
    return Payment.objects.filter(merchant__in=merchants)


def links_of(merchants: QuerySet[Merchant]) -> QuerySet[PaymentLink]:
    return PaymentLink.objects.filter(merchant__in=merchants)


def overview(
    *, merchants: QuerySet[Merchant], days: int = 30, now: datetime | None = None
) -> Overview:
    """Money received per currency, payments by status and link counts, over ``days``."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    recent = payments_of(merchants).filter(created_at__gte=since, created_at__lte=now)

    received = [
        CurrencyTotal(
            currency=row["currency"],
            amount=row["amount"] or 0,
            refunded=row["refunded"] or 0,
            count=row["count"],
        )
        for row in recent.filter(status__in=COMPLETED_STATUSES)
        .order_by()
        .values("currency")
        .annotate(amount=Sum("amount"), refunded=Sum("amount_refunded"), count=Count("pk"))
        .order_by("-count", "currency")
    ]

    counts = dict(
        recent.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    by_status = [
        StatusCount(value, label, counts.get(value, 0)) for value, label in PaymentStatus.choices
    ]
    paid = sum(counts.get(s, 0) for s in COMPLETED_STATUSES)
    finished = sum(counts.get(s, 0) for s in FINISHED_STATUSES)

    link_counts = with_state(links_of(merchants), now).aggregate(
        total=Count("pk"),
        **{state: Count("pk", filter=Q(state=state)) for state in LinkState.values},
    )
    links_by_state = [
        StatusCount(value, label, link_counts[value] or 0) for value, label in LinkState.choices
    ]
    return Overview(
        since=since,
        days=days,
        received=received,
        by_status=by_status,
        paid_count=paid,
        finished_count=finished,
        active_links=link_counts[LinkState.ACTIVE.value] or 0,
        links=link_counts["total"] or 0,
        links_by_state=links_by_state,
    )


def recent_payments(*, merchants: QuerySet[Merchant], limit: int = 8) -> list[Payment]:
    return list(
        payments_of(merchants)
        .select_related("link", "merchant")
        .order_by("-created_at", "-id")[:limit]
    )


def recent_links(*, merchants: QuerySet[Merchant], limit: int = 6) -> list[PaymentLink]:
    return list(
        with_state(links_of(merchants))
        .select_related("merchant")
        .order_by("-created_at", "-id")[:limit]
    )
