"""The console's payment filters, defined once (django-filter).

``PaymentFilterSet`` reads the query string of the analytics pages and of the payments
list: period (today, 7 d, 30 d, 90 d, 12 months, or a custom from/to), currency, status,
payment method, amount range in *major* units of the chosen currency, and link. Its form
validates what a person typed (a bad value is a form error, never a 500), its choices
come from the person's own merchants without scanning payments
(``dashboards.selectors.filter_choices``), and it turns into either

- ``Filters`` and a ``Period`` for ``dashboards.selectors.analytics`` (the analytics
  pages), or
- a filtered ``Payment`` queryset (``.qs``: the payments list's filters reuse the same
  fields through ``paylinks.admin.filters``).

Every parameter keeps its name in both places (``currency``, ``method``, ``link``,
``amount_from``/``amount_to``), so a filtered view can be bookmarked and shared.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from paylinks import money
from paylinks.models import Merchant, Payment, PaymentStatus

from .selectors import (
    NO_METHOD,
    PRESET_DAYS,
    FilterChoices,
    Filters,
    Period,
    filter_choices,
    period_for,
)

PERIODS = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("12m", "Last 12 months"),
    ("custom", "Custom range"),
]
DEFAULT_PERIOD = "30d"
LONGEST_CUSTOM = 3 * 366
"""Days a custom range may span (three years): a page, not an export."""
FIELDS = (
    "period",
    "start",
    "end",
    "currency",
    "status",
    "method",
    "amount_from",
    "amount_to",
    "link",
)
LIST_FIELDS = ("currency", "method", "link", "amount_from", "amount_to")
"""The fields the payments list reuses (its date and status filters are its own)."""


def method_q(
    keys: tuple[str, ...], method: str = "payment_method_type", brand: str = "card_brand"
) -> Q:
    """Payments paid by any of ``keys`` (``card`` = every card, ``card:visa``, ``none``)."""
    q = Q()
    for key in keys:
        name, _, card = key.partition(":")
        part = Q(**{method: "" if name == NO_METHOD else name})
        q |= part & Q(**{brand: card}) if card else part
    return q


def minor_bounds(
    currency: str, low: Decimal | None, high: Decimal | None
) -> tuple[int | None, int | None]:
    """A range in major units as whole minor units of ``currency`` (bounds included)."""
    places = money.get_currency(currency).exponent
    return (
        None if low is None else math.ceil(low.scaleb(places)),
        None if high is None else math.floor(high.scaleb(places)),
    )


class FilterForm(forms.Form):
    """Cross-field rules: an amount needs its currency, a custom range needs its days."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("amount_from"), data.get("amount_to")
        if (low is not None or high is not None) and not data.get("currency"):
            for name in ("amount_from", "amount_to"):
                data.pop(name, None)
            raise forms.ValidationError(
                "Choose a currency to filter by amount: amounts are typed in the "
                "currency's own units (10 means USD 10.00, or JPY 10).",
                code="amount_without_currency",
            )
        if low is not None and high is not None and low > high:
            self.add_error("amount_to", "The largest amount is below the smallest.")
        if "period" in self.fields and data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                self.add_error(
                    "start" if start is None else "end",
                    "A custom range needs both a first and a last day.",
                )
            elif end < start:
                self.add_error("end", "The last day is before the first.")
            elif (end - start).days + 1 > LONGEST_CUSTOM:
                self.add_error("end", f"Choose at most {LONGEST_CUSTOM} days.")
        return data


class AmountFilter(django_filters.NumberFilter):
    """One end of an amount range, typed in major units (needs the currency to mean
    anything: the form says so, and ``PaymentFilterSet`` applies both ends at once)."""

    field_class = forms.DecimalField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(*args, **kwargs)

    def filter(self, qs: Any, value: Any) -> Any:
        return qs  # applied with the currency in PaymentFilterSet.filter_queryset


class PaymentFilterSet(django_filters.FilterSet):
    """The console's filters over a person's payments. ``merchants`` decides the choices;
    ``today`` (the merchant's local day) anchors the period presets."""

    period = django_filters.ChoiceFilter(
        choices=PERIODS, label="Period", empty_label=None, method="filter_period"
    )
    start = django_filters.DateFilter(label="From", method="filter_period")
    end = django_filters.DateFilter(label="To", method="filter_period")
    currency = django_filters.ChoiceFilter(
        label="Currency", field_name="currency", empty_label="Every currency"
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        field_name="status",
        choices=PaymentStatus.choices,
        empty_label="Every status",
    )
    method = django_filters.ChoiceFilter(
        label="Payment method", method="filter_method", empty_label="Every method"
    )
    amount_from = AmountFilter(label="Amount from")
    amount_to = AmountFilter(label="Amount to")
    link = django_filters.ChoiceFilter(label="Link", field_name="link_id", empty_label="Every link")

    class Meta:
        model = Payment
        fields: list[str] = []
        form = FilterForm

    def __init__(
        self,
        data: Any = None,
        *,
        merchants: QuerySet[Merchant],
        today: date | None = None,
        choices: FilterChoices | None = None,
        only: tuple[str, ...] = FIELDS,
        **kwargs: Any,
    ) -> None:
        if "period" in only and data is not None and not data.get("period"):
            data = data.copy()  # the default period, shown as chosen in the form
            data["period"] = DEFAULT_PERIOD
        queryset = kwargs.pop("queryset", None)
        if queryset is None:
            queryset = Payment.objects.filter(merchant__in=merchants)
        super().__init__(data, queryset=queryset, **kwargs)
        for name in [n for n in self.filters if n not in only]:
            del self.filters[name]
        self.today = today or date.today()
        self.choices = choices or filter_choices(merchants=merchants)
        options = {
            "currency": self.choices.currencies,
            "method": self.choices.methods,
            "link": self.choices.links,
        }
        for name, offered in options.items():
            if name in self.filters:
                self.filters[name].extra["choices"] = [(c.value, c.label) for c in offered]
        if "period" in self.filters:
            self.filters["period"].extra["initial"] = DEFAULT_PERIOD
        for name in ("start", "end"):
            if name in self.filters:
                self.filters[name].extra["widget"] = forms.DateInput(attrs={"type": "date"})
        for name in ("amount_from", "amount_to"):
            if name in self.filters:
                self.filters[name].extra["widget"] = forms.NumberInput(
                    attrs={"step": "any", "min": "0", "inputmode": "decimal"}
                )

    # --- for the analytics pages --------------------------------------------------------
    def cleaned(self) -> dict[str, Any]:
        """What validated (an invalid field is left out, and shown as a form error)."""
        self.is_valid()
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}

    def period_value(self) -> Period:
        data = self.cleaned()
        preset = data.get("period") or DEFAULT_PERIOD
        if preset == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None or end < start or "end" in self.form.errors:
                return period_for(DEFAULT_PERIOD, today=self.today)
            return Period(start, end)
        return period_for(preset if preset in PRESET_DAYS else DEFAULT_PERIOD, today=self.today)

    def analytics_filters(self) -> Filters:
        data = self.cleaned()
        return Filters(
            currencies=(data["currency"],) if "currency" in data else (),
            statuses=(data["status"],) if "status" in data else (),
            methods=(data["method"],) if "method" in data else (),
            links=(int(data["link"]),) if "link" in data else (),
            amount_min=data.get("amount_from"),
            amount_max=data.get("amount_to"),
        )

    # --- for a payments queryset --------------------------------------------------------
    def filter_period(self, queryset: QuerySet[Payment], name: str, value: Any) -> Any:
        return queryset  # the analytics selectors read the period; lists keep their own

    def filter_method(self, queryset: QuerySet[Payment], name: str, value: str) -> Any:
        return queryset.filter(method_q((value,)))

    def filter_queryset(self, queryset: QuerySet[Payment]) -> Any:
        return self.filter_amount(super().filter_queryset(queryset))

    def filter_amount(self, queryset: QuerySet[Payment]) -> Any:
        """The amount range, in minor units of the chosen currency (without one, the
        form has an error and nothing is filtered)."""
        data = self.form.cleaned_data
        code = data.get("currency")
        low, high = data.get("amount_from"), data.get("amount_to")
        if code and (low is not None or high is not None):
            minimum, maximum = minor_bounds(code, low, high)
            if minimum is not None:
                queryset = queryset.filter(amount__gte=minimum)
            if maximum is not None:
                queryset = queryset.filter(amount__lte=maximum)
        return queryset

    def errors_text(self) -> list[str]:
        """Every problem in words, labelled with its field."""
        self.is_valid()
        out = []
        for name, errors in self.form.errors.items():
            label = "" if name == "__all__" else f"{self.form.fields[name].label}: "
            out += [f"{label}{e}" for e in errors]
        return out

    def query(self, **changes: Any) -> str:
        """This filter's query string, with ``changes`` (None drops a parameter)."""
        params = self.data.copy() if hasattr(self.data, "copy") else dict(self.data or {})
        for key, value in changes.items():
            params.pop(key, None)
            if value is not None:
                params[key] = value
        return params.urlencode() if hasattr(params, "urlencode") else ""
