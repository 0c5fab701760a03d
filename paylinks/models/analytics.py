from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import models

from .links import PaymentLink
from .merchants import Merchant


class LinkView(models.Model):
    """One visitor opening a link's checkout page, counted once per visitor per window.

    The visitor is an opaque cookie id from the checkout page, stored only as a keyed
    hash: Paylinks can tell two visits apart without being able to track anyone.
    """

    link = models.ForeignKey(PaymentLink, on_delete=models.CASCADE, related_name="views")
    visitor_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "visitor_hash", "window_start"], name="linkview_once_per_window"
            )
        ]
        indexes = [models.Index(fields=["link", "window_start"], name="linkview_link_window")]

    def __str__(self) -> str:
        return f"view of {self.link_id} at {self.window_start:%Y-%m-%d %H:%M}"


# --- rollups ----------------------------------------------------------------------------
# Pre-aggregated figures for the analytics pages, one row per merchant-local day and
# dimension values. They are derived data: ``paylinks.services.rollups`` keeps them exact as
# payments change and can rebuild any of them from the raw rows (``manage.py
# rebuild_rollups``). ``day`` is a calendar day in the merchant's reporting time zone.

#: Amount bands for the distribution of payment amounts: a 1-2-5 ladder in minor units
#: (1, 2, 5, 10, 20, 50, ...), so band ``n`` holds amounts from ``band_floor(n)`` up to, not
#: including, ``band_floor(n + 1)``. The same ladder serves every currency; only the labels
#: (in major units) differ.
BAND_STEPS = (1, 2, 5)
BAND_COUNT = 3 * 10  # 1 .. 5 * 10**9 minor units: beyond any amount Paylinks accepts


def local_day(moment: datetime, zone: zoneinfo.ZoneInfo) -> date:
    """The calendar day ``moment`` falls on in ``zone``."""
    return moment.astimezone(zone).date()


def day_bounds(first: date, last: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """The instants [start, end) that local days ``first`` .. ``last`` cover in ``zone``."""
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


def decline_code(data: Any) -> str:
    """The code an ``attempt_failed`` event records (Stripe's decline code, or its error code)."""
    return str((data or {}).get("code") or "")[:60] if isinstance(data, dict) else ""


def refunded_after(data: Any) -> int:
    """The total refunded that a refund ``status_changed`` event records."""
    value = data.get("amount_refunded") if isinstance(data, dict) else None
    return int(value or 0)


def band_floor(band: int) -> int:
    return BAND_STEPS[band % 3] * 10 ** (band // 3)


def amount_band(amount: int) -> int:
    """The band an amount in minor units falls in (0 for amounts below 2)."""
    band = 0
    while band + 1 < BAND_COUNT and band_floor(band + 1) <= amount:
        band += 1
    return band


class PaymentRollup(models.Model):
    """Finished payments (every status but pending) per merchant-local day of their creation.

    Open payments are few at any moment and change often, so readers count them from the
    payments table directly (``dashboards.selectors``); keeping them out of the rollup
    keeps the checkout itself free of any rollup write.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    link = models.ForeignKey(
        PaymentLink, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20)
    method = models.CharField(max_length=40, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    failure_code = models.CharField(
        max_length=60, blank=True, help_text="Failed payments only: why the gateway failed it."
    )
    amount_band = models.PositiveSmallIntegerField()
    payments = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0, help_text="In minor units of the currency.")
    refunded = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "merchant",
                    "day",
                    "link",
                    "currency",
                    "status",
                    "method",
                    "card_brand",
                    "failure_code",
                    "amount_band",
                ],
                name="paymentrollup_key",
            )
        ]
        indexes = [
            models.Index(fields=["link", "day"], name="paymentrollup_link_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.status} x{self.payments} {self.currency}"


class RefundRollup(models.Model):
    """Money refunded per merchant-local day of the refund (its timeline event)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    link = models.ForeignKey(
        PaymentLink, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=40, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    refunds = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0, help_text="In minor units of the currency.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "day", "link", "currency", "method", "card_brand"],
                name="refundrollup_key",
            )
        ]
        indexes = [models.Index(fields=["link", "day"], name="refundrollup_link_day")]

    def __str__(self) -> str:
        return f"{self.day} refunded {self.refunded} {self.currency}"


class DeclineRollup(models.Model):
    """Declined attempts (a card refused, a 3-D Secure step failed) per local day and code.

    A decline does not end a payment: the customer may try again. The final outcomes
    (failed, expired, canceled) are counted in ``PaymentRollup``.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    link = models.ForeignKey(
        PaymentLink, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    currency = models.CharField(max_length=3)
    code = models.CharField(max_length=60, blank=True)
    attempts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "day", "link", "currency", "code"], name="declinerollup_key"
            )
        ]
        indexes = [models.Index(fields=["link", "day"], name="declinerollup_link_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.code} x{self.attempts}"


class ViewRollup(models.Model):
    """Visits to a link's checkout page (``LinkView`` rows) per merchant-local day."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    link = models.ForeignKey(
        PaymentLink, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    views = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "day", "link"], name="viewrollup_key")
        ]
        indexes = [models.Index(fields=["link", "day"], name="viewrollup_link_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.views} views"


# --- summaries: the same figures with fewer dimensions ------------------------------------
@dataclass(frozen=True)
class Grouping:
    """One way of summing a rollup table's rows: fewer dimensions (and, when ``monthly``,
    calendar months instead of days), so a long period reads thousands of rows instead of
    hundreds of thousands. A summary row is a projection of the detailed rows and is kept
    in the same transaction as them."""

    id: int
    kind: str
    """Which detailed table it sums: ``payments``, ``declines``, ``views`` or ``refunds``."""
    monthly: bool
    dims: frozenset[str]
    """Dimensions kept, by the summary's column names (``code`` is the failure code of a
    payment, the decline code of an attempt)."""


_BY_METHOD = frozenset({"currency", "status", "method", "card_brand", "code"})
#: Per kind, smallest first: a reader takes the first grouping that has what it needs.
GROUPINGS: tuple[Grouping, ...] = (
    Grouping(13, "payments", False, frozenset({"currency", "status"})),
    Grouping(14, "payments", True, frozenset({"currency", "status"})),
    Grouping(1, "payments", False, _BY_METHOD),
    Grouping(2, "payments", True, _BY_METHOD),
    Grouping(3, "payments", False, frozenset({"currency", "status", "amount_band"})),
    Grouping(4, "payments", True, frozenset({"currency", "status", "amount_band"})),
    Grouping(5, "payments", False, frozenset({"link_id", "currency", "status"})),
    Grouping(6, "payments", True, frozenset({"link_id", "currency", "status"})),
    Grouping(7, "declines", False, frozenset({"currency", "code"})),
    Grouping(8, "declines", True, frozenset({"currency", "code"})),
    Grouping(9, "views", False, frozenset()),
    Grouping(10, "views", True, frozenset({"link_id"})),
    Grouping(11, "refunds", False, frozenset({"currency"})),
    Grouping(12, "refunds", True, frozenset({"currency"})),
)

#: The summary's dimension columns, and the value a column has when it is summed over.
SUMMARY_DIMS: dict[str, Any] = {
    "link_id": 0,
    "currency": "",
    "status": "",
    "method": "",
    "card_brand": "",
    "code": "",
    "amount_band": -1,
}


def month_of(day: date) -> date:
    return day.replace(day=1)


class RollupSummary(models.Model):
    """Rows of every ``Grouping``: the rollups summed over the dimensions a grouping drops.

    ``day`` is the day, or for a monthly grouping the first day of the month. A column a
    grouping drops holds its ``SUMMARY_DIMS`` value. ``n`` counts payments, declined
    attempts, views or refunds; ``amount`` and ``refunded`` are minor units of ``currency``.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    grouping = models.PositiveSmallIntegerField()
    day = models.DateField()
    link_id = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=20, blank=True)
    method = models.CharField(max_length=40, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    code = models.CharField(max_length=60, blank=True)
    amount_band = models.SmallIntegerField(default=-1)
    n = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "merchant",
                    "grouping",
                    "day",
                    "link_id",
                    "currency",
                    "status",
                    "method",
                    "card_brand",
                    "code",
                    "amount_band",
                ],
                name="rollupsummary_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} grouping {self.grouping}: {self.n}"
