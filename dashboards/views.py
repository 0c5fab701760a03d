"""The console's analytics pages: filters -> selectors -> charts -> template.

``/admin/analytics/`` shows a merchant's figures (members of it; support staff and
superusers for every merchant, or one with ``?merchant=<id>``);
``/admin/analytics/support/`` adds the per-merchant table for support staff. Both read
their filters from the query string (``dashboards.filters``), so a view can be bookmarked,
and answer ``?csv=<chart>`` with that chart's numbers under the same filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.views.generic import TemplateView

from paylinks import money, permissions
from paylinks.admin.site import site
from paylinks.models import Merchant

from . import charts, selectors
from .filters import PERIODS, PaymentFilterSet
from .selectors import Analytics, Change, Period


# --- presenting a figure beside the previous period --------------------------------------
@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    previous: str
    change: str
    trend: str
    """``up``, ``down`` or ``flat`` (the arrow), independent of whether up is good."""
    good: bool | None
    """Whether the change is good news (colours the change); None when flat."""
    note: str = ""
    currency: str = ""


def _trend(change: Change) -> str:
    return "up" if change.delta > 0 else "down" if change.delta < 0 else "flat"


def _relative(change: Change) -> str:
    if not change.delta:
        return "no change"
    if change.ratio is None:
        return "new"
    return f"{change.ratio * 100:+.1f} %".replace("-", "−")


def _points(change: Change) -> str:
    if not change.delta:
        return "no change"
    return f"{change.delta * 100:+.1f} pts".replace("-", "−")


def kpi(
    key: str,
    label: str,
    change: Change,
    show: Any,
    *,
    higher_is_better: bool = True,
    rate: bool = False,
    note: str = "",
    currency: str = "",
) -> Kpi:
    trend = _trend(change)
    return Kpi(
        key=key,
        label=label,
        value=show(change.current),
        previous=show(change.previous),
        change=_points(change) if rate else _relative(change),
        trend=trend,
        good=None if trend == "flat" else (trend == "up") == higher_is_better,
        note=note,
        currency=currency,
    )


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _count(value: float) -> str:
    return f"{int(value):,}"


def headline_cards(data: Analytics) -> dict[str, Any]:
    """The headline tiles: one row per currency (money is never added across
    currencies), then the counts every currency shares."""
    h = data.headline
    per_currency = []
    for c in h.currencies:

        def show(value: float, code: str = c.currency) -> str:
            return money.format_money(int(value), code)

        per_currency.append(
            {
                "currency": c.currency,
                "cards": [
                    kpi("net", "Received, net of refunds", c.net, show, currency=c.currency),
                    kpi("gross", "Received, gross", c.gross, show, currency=c.currency),
                    kpi("paid", "Paid payments", c.paid, _count, currency=c.currency),
                    kpi(
                        "refunded",
                        "Refunded",
                        c.refunded,
                        show,
                        higher_is_better=False,
                        currency=c.currency,
                        note="Of this period's payments",
                    ),
                ],
            }
        )
    shared = [
        kpi("started", "Checkouts started", h.started, _count),
        kpi(
            "failed",
            "Failed attempts",
            h.failed_attempts,
            _count,
            higher_is_better=False,
            note="Declined attempts and failed payments",
        ),
        kpi("views", "Page views", h.views, _count),
    ]
    if h.success_rate is not None:
        shared.insert(
            0,
            kpi(
                "success",
                "Success rate",
                h.success_rate,
                _percent,
                rate=True,
                note=f"{h.paid.current:,.0f} paid of {h.finished.current:,.0f} finished",
            ),
        )
    if h.conversion is not None:
        shared.append(kpi("conversion", "Conversion", h.conversion, _percent, rate=True))
    return {"per_currency": per_currency, "shared": shared}


# --- the pages ---------------------------------------------------------------------------
def table_html(table: charts.Table, key: str) -> SafeString:
    """A chart's numbers as an accessible table (the first column names each row). Built
    here rather than with template loops: a year of daily rows is thousands of cells."""
    if not table.rows:
        return format_html(
            '<p class="paylinks-empty" data-table="{}">Nothing in this period with these '
            "filters.</p>",
            key,
        )
    head = format_html(
        '<th scope="col">{}</th>{}',
        table.headers[0],
        format_html_join(
            "", '<th scope="col" class="is-number">{}</th>', ((h,) for h in table.headers[1:])
        ),
    )
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html(
                    '<th scope="row">{}</th>{}',
                    row[0] if row else "",
                    format_html_join("", '<td class="is-number">{}</td>', ((c,) for c in row[1:])),
                ),
            )
            for row in table.rows
        ),
    )
    return format_html(
        '<div class="paylinks-scroll"><table class="paylinks-data" data-table="{}">'
        "<thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>",
        key,
        head,
        body,
    )


# What json_script escapes, so the JSON cannot close the <script> element.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_data_script(encoded: str, element_id: str) -> SafeString:
    """``json_script`` for JSON that is already encoded (``charts.page_json`` writes it
    compactly): the same escaping, without decoding and encoding it again."""
    return format_html(
        '<script id="{}" type="application/json">{}</script>',
        element_id,
        mark_safe(encoded.translate(JSON_SCRIPT_ESCAPES)),  # noqa: S308 - escaped as json_script does
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def period_text(period: Period) -> str:
    if period.days == 1:
        return _day(period.start)
    return f"{_day(period.start)} – {_day(period.end)}"


WIDE_CHARTS = frozenset({"received", "statuses", "methods", "distribution"})


class AnalyticsView(TemplateView):
    template_name = "console/analytics/index.html"
    title = "Analytics"
    support = False

    def merchants(self) -> QuerySet[Merchant]:
        """Who the figures are about: everything the person sees, or one merchant of it
        (``?merchant=``; another merchant's id, or a member's pick of someone else's,
        answers 404)."""
        visible = permissions.visible_merchants(self.request.user)
        picked = self.request.GET.get("merchant", "")
        if not picked:
            return visible
        if not (picked.isascii() and picked.isdigit()):
            raise Http404
        one = visible.filter(pk=int(picked))
        if not one.exists():
            raise Http404
        return one

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.support and not permissions.sees_all_merchants(request.user):
            raise Http404
        merchants = self.merchants()
        zone = selectors.zone_of(merchants)
        filterset = PaymentFilterSet(
            request.GET,
            merchants=merchants,
            today=selectors.local_today(zone),
        )
        period = filterset.period_value()
        data = selectors.analytics(
            merchants=merchants, period=period, filters=filterset.analytics_filters()
        )
        light, dark = charts.themes()
        page = charts.page(data, light)
        wanted = request.GET.get("csv")
        if wanted:
            return self.csv(wanted, page, data, period)
        context = self.get_context_data(**kwargs)
        context |= {
            "filterset": filterset,
            "form": filterset.form,
            "errors": filterset.errors_text(),
            "period": period,
            "period_text": period_text(period),
            "previous_text": period_text(data.previous),
            "zone": zone,
            "data": data,
            "cards": headline_cards(data),
            # The wide charts first, then the others two by two.
            "charts": [
                self.chart_context(c) for c in sorted(page, key=lambda c: c.key not in WIDE_CHARTS)
            ],
            "charts_script": json_data_script(charts.page_json(page, dark), "paylinks-charts-data"),
            "top_links": table_html(charts.top_links_table(data.links), "top_links"),
            "top_links_csv": "?" + filterset.query(csv="top_links"),
            "presets": [
                {
                    "value": v,
                    "label": label,
                    "query": filterset.query(period=v, start=None, end=None),
                }
                for v, label in PERIODS
                if v != "custom"
            ],
            "current_preset": filterset.cleaned().get("period") or "30d",
            "merchant_choices": self.merchant_choices(),
            "picked_merchant": request.GET.get("merchant", ""),
            "several_merchants": merchants[:2].count() > 1,
            "support_url": reverse("analytics:support"),
            "analytics_url": reverse("analytics:index"),
            "sees_all": permissions.sees_all_merchants(request.user),
        }
        context |= self.page_extras(merchants, period, filterset)
        return self.render_to_response(context)

    def page_extras(
        self, merchants: QuerySet[Merchant], period: Period, filterset: PaymentFilterSet
    ) -> dict[str, Any]:
        return {}

    def chart_context(self, chart: charts.Chart) -> dict[str, Any]:
        return {
            "key": chart.key,
            "title": chart.title,
            "table": chart.table,
            "table_html": table_html(chart.table, chart.key),
            "empty": chart.empty,
            # Time series and one-panel-per-currency charts take the whole width.
            "wide": chart.key in WIDE_CHARTS,
            "csv": "?" + self.csv_query(chart.key),
        }

    def csv_query(self, key: str) -> str:
        params = self.request.GET.copy()
        params["csv"] = key
        return params.urlencode()

    def merchant_choices(self) -> list[tuple[str, str]]:
        if not permissions.sees_all_merchants(self.request.user):
            return []
        return [
            (str(pk), name)
            for pk, name in Merchant.objects.order_by("name").values_list("pk", "name")[:500]
        ]

    def csv(
        self, key: str, page: list[charts.Chart], data: Analytics, period: Period
    ) -> HttpResponse:
        tables = {c.key: c.table for c in page} | {"top_links": charts.top_links_table(data.links)}
        tables |= self.extra_tables(period)
        if key not in tables:
            raise Http404
        response = HttpResponse(tables[key].csv(), content_type="text/csv; charset=utf-8")
        name = f"paylinks-{slugify(key)}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def extra_tables(self, period: Period) -> dict[str, charts.Table]:
        return {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        return {**site.each_context(self.request), **context, "title": self.title}


class SupportView(AnalyticsView):
    """Every merchant's figures, and the per-merchant table. Read-only."""

    template_name = "console/analytics/support.html"
    title = "Support overview"
    support = True

    def _overview(self, period: Period) -> selectors.SupportOverview:
        if not hasattr(self, "_cached"):
            self._cached = selectors.support_overview(
                merchants=self.merchants(), period=period, filters=self._filters
            )
        return self._cached

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.sees_all_merchants(request.user):
            raise Http404
        self._filters = PaymentFilterSet(
            request.GET, merchants=self.merchants(), today=selectors.local_today(settings.TIME_ZONE)
        ).analytics_filters()
        return super().get(request, *args, **kwargs)

    def page_extras(
        self, merchants: QuerySet[Merchant], period: Period, filterset: PaymentFilterSet
    ) -> dict[str, Any]:
        overview = self._overview(period)
        table = charts.support_table(overview)
        return {
            "overview": overview,
            "merchant_table": table,
            "merchant_rows": [
                {
                    "row": row,
                    "cells": cells[1:],
                    "url": reverse("analytics:index") + f"?merchant={row.merchant_id}",
                }
                for row, cells in zip(overview.rows, table.rows, strict=True)
            ],
            "merchants_csv": "?" + filterset.query(csv="merchants"),
        }

    def extra_tables(self, period: Period) -> dict[str, charts.Table]:
        return {"merchants": charts.support_table(self._overview(period))}
