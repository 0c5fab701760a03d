"""List filters for the console. Every choice offered comes from the person's own merchants.

Django's ``RelatedFieldListFilter`` (what ``list_filter = ["merchant"]`` gives) and
``AllValuesFieldListFilter`` would list every merchant (or every value) on the platform,
so none of the filters here derive their choices from the whole table.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.validators import EMPTY_VALUES
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    DropdownFilter,
    RangeDateFilter,
    RangeNumericListFilter,
)
from unfold.utils import parse_date_str

from dashboards.filters import LIST_FIELDS, PaymentFilterSet
from paylinks import permissions
from paylinks.models import LinkState


class MerchantFilter(DropdownFilter):
    """Filter by merchant, offering only the merchants the person can see."""

    title = "merchant"
    parameter_name = "merchant"
    merchant_path = "merchant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        merchants = permissions.visible_merchants(request.user)
        return [(str(m.pk), m.name) for m in merchants]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isascii() and value.isdigit():
            return queryset.filter(**{f"{self.merchant_path}__pk": int(value)})
        return queryset


class StateFilter(DropdownFilter):
    """A link's state as a customer meets it (needs the ``with_state`` annotation)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(LinkState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in LinkState.values:
            return queryset.filter(state=self.value())
        return queryset


def payment_filters(request: HttpRequest) -> PaymentFilterSet:
    """The console's one definition of the currency, method, link and amount filters
    (``dashboards.filters``), read once per request from its query string."""
    cached = getattr(request, "_paylinks_filters", None)
    if cached is None:
        cached = PaymentFilterSet(
            request.GET,
            merchants=permissions.visible_merchants(request.user),
            only=LIST_FIELDS,
        )
        cached.is_valid()
        request._paylinks_filters = cached  # type: ignore[attr-defined]
    return cached


class SharedDropdownFilter(DropdownFilter):
    """A dropdown for one field of ``PaymentFilterSet``: its choices (the person's own,
    read without scanning payments) and its query. A value it does not offer is ignored."""

    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(payment_filters(request).filters[self.field].extra["choices"])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        filterset = payment_filters(request)
        value = filterset.form.cleaned_data.get(self.field)
        if not value:
            return queryset
        return filterset.filters[self.field].filter(queryset, value)


class CurrencyFilter(SharedDropdownFilter):
    """The currencies of the person's own links, not all 46 Paylinks knows."""

    title = "currency"
    parameter_name = field = "currency"


class MethodFilter(SharedDropdownFilter):
    """Payment methods (a card brand, or every card) seen on the person's own payments."""

    title = "payment method"
    parameter_name = field = "method"


class LinkFilter(SharedDropdownFilter):
    title = "link"
    parameter_name = field = "link"


class AmountRangeFilter(RangeNumericListFilter):
    """An amount range in major units of the chosen currency (``amount_from`` /
    ``amount_to``, as on the analytics page). Without a currency it cannot mean anything:
    the list says so, and shows every amount."""

    title = "amount (choose a currency)"
    parameter_name = "amount"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        filterset = payment_filters(request)
        if not any(self.used_parameters.values()):
            return queryset
        errors = [
            e
            for name in ("__all__", "amount_from", "amount_to")
            for e in filterset.form.errors.get(name, [])
        ]
        if errors:
            messages.error(request, "Amount filter not applied: " + " ".join(errors))
            return queryset
        return filterset.filter_amount(queryset)


class PriceTypeFilter(ChoicesDropdownFilter):
    """Fixed price or customer chooses, under the console's word for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "price"


class DayRangeFilter(RangeDateFilter):
    """Unfold's date range, with whole days in the console's time zone, which its title
    names ("date (Pacific/Auckland)"): a merchant's "today" starts at its midnight.

    "From 1 May to 3 May" includes everything on 3 May; the bounds are compared as
    datetimes (``>= start``, ``< day after end``), so the (merchant, -created_at) index
    still serves the query.
    """

    label: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label = self.label or str(getattr(self, "title", ""))
        self.title = f"{label} ({timezone.get_current_timezone()})"

    @classmethod
    def titled(cls, label: str) -> type[DayRangeFilter]:
        """The same filter under a merchant's word for it ("date", not "created at")."""
        return type(f"{cls.__name__}{label.title().replace(' ', '')}", (cls,), {"label": label})

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        field = self.parameter_name
        filters: dict[str, datetime] = {}
        start = self._day(f"{field}_from")
        end = self._day(f"{field}_to")
        if start is not None:
            filters[f"{field}__gte"] = start
        if end is not None:
            filters[f"{field}__lt"] = end + timedelta(days=1)
        return queryset.filter(**filters)

    def _day(self, key: str) -> datetime | None:
        raw = self.used_parameters.get(key)
        if raw in EMPTY_VALUES or not isinstance(raw, str):
            return None
        try:
            day = parse_date_str(raw)
        except ValueError:
            return None
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.min))
