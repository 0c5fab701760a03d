"""Charts are pure: plain data in, a valid Plotly figure and its table out, no database."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta

import plotly.graph_objects as go
import pytest

from dashboards import charts
from dashboards.selectors import (
    AmountBand,
    Analytics,
    Change,
    CurrencyAmount,
    CurrencyHeadline,
    Distribution,
    Filters,
    Headline,
    LinkFunnel,
    MerchantRow,
    MethodRow,
    MoneySeries,
    Period,
    Reason,
    RefundSeries,
    StatusSeries,
    SupportOverview,
    bucket_starts,
)
from paylinks import money
from paylinks.models import PaymentStatus
from project.settings.unfold import UNFOLD

LIGHT = charts.Theme.from_colors(UNFOLD["COLORS"], dark=False)  # type: ignore[arg-type]
DARK = charts.Theme.from_colors(UNFOLD["COLORS"], dark=True)  # type: ignore[arg-type]


def sample(
    days: int = 30,
    bucket: str = "day",
    currencies: tuple[str, ...] = ("EUR", "JPY"),
    links: int = 5,
) -> Analytics:
    rng = random.Random(days)
    period = Period(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=days - 1))
    starts = bucket_starts(period, bucket)
    n = len(starts)

    def ints(high: int) -> list[int]:
        return [rng.randrange(high) for _ in range(n)]

    received = []
    for code in currencies:
        gross = ints(500_000)
        refunded = [g // 10 for g in gross]
        received.append(
            MoneySeries(
                code,
                gross,
                refunded,
                [g - r for g, r in zip(gross, refunded, strict=True)],
                ints(90),
            )
        )
    zero = Change(0, 0)
    return Analytics(
        period=period,
        previous=period.previous(),
        bucket=bucket,
        starts=starts,
        filters=Filters(),
        source="rollups",
        headline=Headline(
            zero,
            zero,
            zero,
            None,
            zero,
            zero,
            None,
            [CurrencyHeadline(c, zero, zero, zero, zero) for c in currencies],
        ),
        received=received,
        statuses=[StatusSeries(v, label, ints(40)) for v, label in PaymentStatus.choices],
        success_rate=[rng.random() if i % 7 else None for i in range(n)],
        methods=[
            MethodRow(key, label, code, rng.randrange(1, 900), rng.randrange(1, 10**7))
            for code in currencies
            for key, label in (
                ("card:visa", "Visa"),
                ("card:mastercard", "Mastercard"),
                ("sepa_debit", "SEPA Direct Debit"),
            )
        ],
        links=[
            LinkFunnel(
                k,
                f"Link {k}",
                900 - k,
                400 - k,
                300 - k,
                [CurrencyAmount(currencies[0], 10_000 * k, 9_000 * k)],
            )
            for k in range(1, links + 1)
        ],
        distribution=[
            Distribution(
                code,
                [
                    AmountBand(b, 1, 2, rng.randrange(100), rng.randrange(10**6))
                    for b in range(6, 14)
                ],
            )
            for code in currencies
        ],
        refunds=[RefundSeries(code, ints(20_000), ints(5)) for code in currencies],
        reasons=[
            Reason("declined:insufficient_funds", "Insufficient funds", "declined", 30, 0.5),
            Reason("expired", "Abandoned: checkout expired", "expired", 20, 1 / 3),
            Reason(
                "failed:payment_method_provider_decline:sepa_debit",
                "SEPA Direct Debit failed",
                "failed",
                10,
                1 / 6,
            ),
        ],
    )


def validated(chart: charts.Chart) -> go.Figure:
    """The figure checked property by property, as Plotly checks by default."""
    return go.Figure(json.loads(chart.json()))


@pytest.mark.parametrize("build", charts.CHARTS, ids=lambda f: f.__name__)
def test_every_chart_is_a_valid_figure_with_its_table(build) -> None:  # type: ignore[no-untyped-def]
    chart = build(sample(), LIGHT)
    figure = validated(chart)
    assert len(figure.data) >= 1 and not chart.empty
    assert chart.table.headers and chart.table.rows
    assert all(len(row) == len(chart.table.headers) for row in chart.table.rows)
    parsed = list(csv.reader(io.StringIO(chart.table.csv())))
    assert parsed[0] == chart.table.headers and parsed[1:] == chart.table.rows
    assert len(chart.colors(DARK)["traces"]) == len(figure.data)


def test_money_is_drawn_in_major_units_per_currency_and_tabled_exactly() -> None:
    data = sample(days=3)
    chart = charts.received(data, LIGHT)
    figure = validated(chart)
    eur_net = next(t for t in figure.data if t.name == "Net (EUR)")
    jpy_net = next(t for t in figure.data if t.name == "Net (JPY)")
    assert list(eur_net.y) == [v / 100 for v in data.received[0].net]
    assert list(jpy_net.y) == data.received[1].net  # JPY has no minor unit
    assert eur_net.yaxis != jpy_net.yaxis, "each currency on its own axis"
    first = data.received[0]
    assert chart.table.rows[0] == [
        "2026-01-01",
        "EUR",
        money.format_money(first.gross[0], "EUR"),
        money.format_money(first.refunded[0], "EUR"),
        money.format_money(first.net[0], "EUR"),
        str(first.paid[0]),
    ]


def test_daily_axes_send_a_start_and_a_step_not_a_date_per_point() -> None:
    figure = charts.statuses(sample(days=60), LIGHT).figure.to_plotly_json()
    trace = figure["data"][0]
    assert trace["x0"] == "2026-01-01" and trace["dx"] == charts.DAY_MS and "x" not in trace
    months = charts.statuses(sample(days=200, bucket="month"), LIGHT).figure.to_plotly_json()
    assert months["data"][0]["x"][:2] == ["2026-01-01", "2026-02-01"]


def test_weeks_clipped_at_the_start_still_line_up() -> None:
    data = sample(days=40, bucket="week")  # 2026-01-01 is a Thursday
    trace = charts.success_rate(data, LIGHT).figure.to_plotly_json()["data"][0]
    assert trace["x0"] == "2025-12-29" and trace["dx"] == 7 * charts.DAY_MS
    assert charts.success_rate(data, LIGHT).table.rows[0][0] == "Week of 2026-01-01"


def test_status_colours_mean_the_same_in_both_modes() -> None:
    chart = charts.statuses(sample(), LIGHT)
    light = [t["marker"]["color"] for t in chart.figure.to_plotly_json()["data"]]
    dark = chart.colors(DARK)["traces"]
    failed = [s.status for s in sample().statuses].index("failed")
    assert light[failed] == LIGHT.status["failed"] and dark[failed] == DARK.status["failed"]
    assert light != dark
    assert chart.colors(DARK)["layout"]["font"]["color"] == DARK.text


def test_the_theme_comes_from_the_consoles_colours() -> None:
    assert charts.oklch_to_hex("oklch(100% 0 0)") == "#ffffff"
    assert charts.oklch_to_hex("oklch(0% 0 0)") == "#000000"
    assert charts.oklch_to_hex("oklch(62.8% .2577 29.23)") == "#ff0000"
    primary = UNFOLD["COLORS"]["primary"]  # type: ignore[index]
    assert LIGHT.series[0] == charts.oklch_to_hex(primary["600"])
    assert DARK.series[0] == charts.oklch_to_hex(primary["400"])
    with pytest.raises(ValueError):
        charts.oklch_to_hex("#fff")


def test_an_empty_period_says_so() -> None:
    data = sample()
    empty = Analytics(
        **{
            **data.__dict__,
            "received": [],
            "statuses": [],
            "methods": [],
            "links": [],
            "distribution": [],
            "refunds": [],
            "reasons": [],
            "success_rate": [None] * len(data.starts),
        }
    )
    for chart in charts.page(empty, LIGHT):
        assert chart.empty and chart.table.rows == []
        figure = validated(chart)
        assert figure.layout.annotations[0].text == "Nothing in this period"


def test_a_years_daily_page_is_small() -> None:
    """Twelve months of daily points in two currencies, every chart: <= 200 KB of JSON,
    with the dark mode's colours, and no template or plotly.js in it."""
    data = sample(days=365, links=10)
    sent = charts.page_json(charts.page(data, LIGHT), DARK)
    assert len(sent.encode()) <= 200 * 1024, len(sent)
    assert 'template":{}' in sent.replace(" ", "") or '"template":{}' in sent
    assert "plotly.js" not in sent and "<script" not in sent
    assert len(json.loads(sent)) == 8


def test_tables_for_top_links_and_support() -> None:
    data = sample()
    table = charts.top_links_table(data.links)
    assert table.headers[0] == "Link" and len(table.rows) == 5
    assert table.rows[0][table.headers.index("Units sold")] == str(data.links[0].units)
    conversion = table.rows[0][table.headers.index("Conversion")]
    assert conversion == f"{(300 - 1) / (900 - 1) * 100:.1f} %"
    overview = SupportOverview(
        period=data.period,
        rows=[
            MerchantRow(
                1, "Acme Books", "acme", [CurrencyAmount("USD", 12_345, 12_000)], 10, 8, 9, 3, 1
            )
        ],
        webhook_failures=2,
        unattributed_webhook_failures=1,
    )
    support = charts.support_table(overview)
    assert support.rows == [["Acme Books", support.rows[0][1], "10", "88.9 %", "3", "1"]]
    assert "123.45" in support.rows[0][1]
