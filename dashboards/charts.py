"""The analytics page's charts: plain data in (``dashboards.selectors``), Plotly figures out.

Pure functions, testable without a database. Each returns a ``Chart``: the figure, the
same numbers as a table (headers and rows, or CSV) for people who do not read charts,
and the colours to swap in for the console's dark mode. Money is drawn in major units of
its currency, one panel per currency (amounts in different currencies are never drawn on
one axis, let alone added); the table carries the exact amounts, formatted by
``paylinks.money``.

Figures are built without Plotly's per-value validation (``_validate=False``: it costs
tens of milliseconds per figure at a year of daily points) and without a template, so the
JSON sent to the browser holds only what is drawn; the tests validate every figure the
slow way. Dates on an evenly spaced axis are sent as a start and a step, not one string
per point.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.conf import settings

from paylinks import money
from paylinks.models import PaymentStatus

from .selectors import Analytics, LinkFunnel, SupportOverview

DAY_MS = 86_400_000


# --- colours ----------------------------------------------------------------------------
def oklch_to_hex(value: str) -> str:
    """``oklch(59.5% .215 271)`` -> ``#5b5bf6``: the console theme's colours for Plotly,
    which does not read OKLCH (Björn Ottosson's OKLab matrices, then sRGB gamma)."""
    found = re.fullmatch(r"oklch\(\s*([\d.]+)%?\s+([\d.]+)\s+([\d.]+)\s*\)", value.strip())
    if not found:
        raise ValueError(f"not an oklch() colour: {value!r}")
    lightness, chroma, hue = (float(x) for x in found.groups())
    lightness = lightness / 100 if "%" in value else lightness
    a = chroma * math.cos(math.radians(hue))
    b = chroma * math.sin(math.radians(hue))
    l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    linear = (
        4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_,
        -1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_,
        -0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_,
    )

    def channel(c: float) -> int:
        c = min(max(c, 0.0), 1.0)
        c = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        return round(c * 255)

    return "#" + "".join(f"{channel(c):02x}" for c in linear)


@dataclass(frozen=True)
class Theme:
    """Colours for one of the console's modes, from Unfold's ``COLORS`` (primary, base)."""

    dark: bool
    text: str
    muted: str
    grid: str
    series: tuple[str, ...]
    """Categorical colours: the primary first, then hues clear of the status colours."""
    status: dict[str, str]
    font: str = "Inter, ui-sans-serif, system-ui, sans-serif"

    @classmethod
    def from_colors(cls, colors: dict[str, dict[str, str]], *, dark: bool) -> Theme:
        primary = {k: oklch_to_hex(v) for k, v in colors["primary"].items()}
        base = {k: oklch_to_hex(v) for k, v in colors["base"].items()}
        # Tailwind's palette, the hues Unfold's badges use (success, info, warning, danger).
        if dark:
            hues = ("#34d399", "#38bdf8", "#fbbf24", "#f87171", "#a78bfa", "#f472b6")
            shade, text, muted, grid = "400", base["200"], base["400"], base["700"]
        else:
            hues = ("#059669", "#0284c7", "#d97706", "#dc2626", "#7c3aed", "#db2777")
            shade, text, muted, grid = "600", base["700"], base["500"], base["200"]
        green, sky, amber, red, violet, pink = hues
        return cls(
            dark=dark,
            text=text,
            muted=muted,
            grid=grid,
            series=(primary[shade], sky, pink, amber, violet, primary["300" if dark else "800"]),
            status={
                PaymentStatus.SUCCEEDED: green,
                PaymentStatus.PENDING: sky,
                PaymentStatus.FAILED: red,
                PaymentStatus.EXPIRED: amber,
                PaymentStatus.CANCELED: base["500" if dark else "400"],
                PaymentStatus.PARTIALLY_REFUNDED: violet,
                PaymentStatus.REFUNDED: primary[shade],
            },
        )


def themes() -> tuple[Theme, Theme]:
    """(light, dark) from the console's settings."""
    colors: dict[str, dict[str, str]] = settings.UNFOLD["COLORS"]  # type: ignore[assignment]
    return Theme.from_colors(colors, dark=False), Theme.from_colors(colors, dark=True)


# --- what a chart is ---------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A chart's numbers for reading: column headers and rows of display text."""

    headers: list[str]
    rows: list[list[str]]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        return out.getvalue()


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    figure: go.Figure
    table: Table
    roles: Sequence[str | list[str]] = field(default_factory=list)
    """The colour role of each trace (``series:0``, ``status:failed``; a list when each bar
    has its own), so the other mode's colours can be swapped in (``colors``)."""
    empty: bool = False

    def colors(self, theme: Theme) -> dict[str, Any]:
        """What changes in ``theme``: the trace colours in order, and the layout's."""
        traces = [
            [_color(r, theme) for r in role] if isinstance(role, list) else _color(role, theme)
            for role in self.roles
        ]
        return {"traces": traces, "layout": _chrome(theme)}

    def json(self) -> str:
        """The figure as compact JSON for ``Plotly.newPlot`` (no template, no whitespace)."""
        return figure_json(self.figure)


def figure_json(figure: go.Figure) -> str:
    return json.dumps(figure.to_plotly_json(), separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _color(role: str, theme: Theme) -> str:
    kind, _, name = role.partition(":")
    if kind == "status":
        return theme.status.get(name, theme.series[0])
    return theme.series[int(name) % len(theme.series)]


def _chrome(theme: Theme) -> dict[str, Any]:
    axis = {"gridcolor": theme.grid, "linecolor": theme.grid, "zerolinecolor": theme.grid}
    return {
        "font": {"color": theme.text, "family": theme.font, "size": 12},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": axis,
        "yaxis": axis,
        "legend": {"font": {"color": theme.muted}},
    }


def _layout(theme: Theme, **extra: Any) -> dict[str, Any]:
    layout = {
        "template": {},
        "margin": {"l": 56, "r": 16, "t": 8, "b": 40},
        "height": 300,
        "hovermode": "x unified",
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.18, "font": {"color": theme.muted}},
        **_chrome(theme),
        **extra,
    }
    layout["legend"] = {**layout["legend"], "orientation": "h", "y": -0.18}
    return layout


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    return go.Figure(data=traces, layout=layout, _validate=False)


def _axis_x(starts: Sequence[date], bucket: str) -> dict[str, Any]:
    """The x values of a time series: a start and a step when evenly spaced."""
    step = 7 if bucket == "week" else 1
    if bucket in ("day", "week") and len(starts) > 2:
        # The first bucket of a week series may be clipped to the period: draw it at its
        # Monday like the rest, and say the date in the table.
        first = starts[1] - timedelta(days=step)
        return {"x0": first.isoformat(), "dx": step * DAY_MS}
    return {"x": [d.isoformat() for d in starts]}


def _major(amount: int, currency: str) -> float:
    """A coordinate in major units (drawing only; the table has the exact amount)."""
    exponent = money.get_currency(currency).exponent
    return float(Decimal(amount).scaleb(-exponent)) if exponent else float(amount)


def _label(day: date, bucket: str) -> str:
    if bucket == "month":
        return day.strftime("%b %Y")
    if bucket == "week":
        return f"Week of {day.isoformat()}"
    return day.isoformat()


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _empty(key: str, title: str, theme: Theme, headers: list[str]) -> Chart:
    layout = _layout(
        theme,
        annotations=[
            {
                "text": "Nothing in this period",
                "showarrow": False,
                "font": {"color": theme.muted},
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        ],
        xaxis={"visible": False},
        yaxis={"visible": False},
        showlegend=False,
    )
    return Chart(key, title, _figure([], layout), Table(headers, []), [], empty=True)


# --- the charts -------------------------------------------------------------------------
def received(data: Analytics, theme: Theme) -> Chart:
    """Money received over time, net of refunds and gross: one panel per currency."""
    title = "Received"
    headers = ["Period", "Currency", "Gross", "Refunded", "Net", "Payments"]
    if not data.received:
        return _empty("received", title, theme, headers)
    panels = len(data.received)
    traces, roles = [], []
    x = _axis_x(data.starts, data.bucket)
    layout = _layout(theme, height=200 * panels + 100)
    gap = 0.1 if panels > 1 else 0.0
    height = (1 - gap * (panels - 1)) / panels
    for n, series in enumerate(data.received):
        suffix = "" if n == 0 else str(n + 1)
        for name, values, dash, role in (
            ("Net", series.net, "solid", "series:0"),
            ("Gross", series.gross, "dot", "series:1"),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{name} ({series.currency})",
                    "y": [_major(v, series.currency) for v in values],
                    "line": {"color": _color(role, theme), "width": 2, "dash": dash},
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                    "hovertemplate": f"%{{y:,.2f}} {series.currency}<extra>{name}</extra>",
                    **x,
                }
            )
            roles.append(role)
        # Panels top to bottom, each currency on its own axis, the x axes linked.
        top = 1 - n * (height + gap)
        layout[f"yaxis{suffix}"] = {
            "domain": [max(top - height, 0), top],
            "title": {"text": series.currency},
            "gridcolor": theme.grid,
            "rangemode": "tozero",
            "anchor": f"x{suffix}",
        }
        layout[f"xaxis{suffix}"] = {
            "type": "date",
            "gridcolor": theme.grid,
            "anchor": f"y{suffix}",
            **({"matches": "x", "showticklabels": n == panels - 1} if n else {}),
        }
    rows = [
        [
            _label(day, data.bucket),
            s.currency,
            money.format_money(s.gross[i], s.currency),
            money.format_money(s.refunded[i], s.currency),
            money.format_money(s.net[i], s.currency),
            str(s.paid[i]),
        ]
        for s in data.received
        for i, day in enumerate(data.starts)
    ]
    return Chart("received", title, _figure(traces, layout), Table(headers, rows), roles)


def statuses(data: Analytics, theme: Theme) -> Chart:
    """Payments by status over time (stacked: every checkout started in the bucket)."""
    title = "Payments by status"
    headers = ["Period", *(s.label for s in data.statuses)]
    if not data.statuses:
        return _empty("statuses", title, theme, headers)
    x = _axis_x(data.starts, data.bucket)
    traces = [
        {
            "type": "bar",
            "name": s.label,
            "y": s.counts,
            "marker": {"color": theme.status[s.status]},
            "hovertemplate": f"%{{y:,}}<extra>{s.label}</extra>",
            **x,
        }
        for s in data.statuses
    ]
    layout = _layout(theme, barmode="stack", bargap=0.15)
    layout["xaxis"] = {**layout["xaxis"], "type": "date"}
    rows = [
        [_label(day, data.bucket), *(str(s.counts[i]) for s in data.statuses)]
        for i, day in enumerate(data.starts)
    ]
    roles = [f"status:{s.status}" for s in data.statuses]
    return Chart("statuses", title, _figure(traces, layout), Table(headers, rows), roles)


def success_rate(data: Analytics, theme: Theme) -> Chart:
    """Paid share of the attempts that finished, per bucket."""
    title = "Success rate"
    headers = ["Period", "Success rate"]
    if all(v is None for v in data.success_rate):
        return _empty("success_rate", title, theme, headers)
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "Success rate",
        "y": [None if v is None else round(v * 100, 2) for v in data.success_rate],
        "line": {"color": _color("series:0", theme), "width": 2},
        "marker": {"size": 4},
        "connectgaps": False,
        "hovertemplate": "%{y:.1f} %<extra></extra>",
        **_axis_x(data.starts, data.bucket),
    }
    layout = _layout(theme, showlegend=False)
    layout["yaxis"] = {**layout["yaxis"], "range": [0, 100], "ticksuffix": " %"}
    layout["xaxis"] = {**layout["xaxis"], "type": "date"}
    rows = [
        [_label(day, data.bucket), _percent(data.success_rate[i])]
        for i, day in enumerate(data.starts)
    ]
    return Chart(
        "success_rate", title, _figure([trace], layout), Table(headers, rows), ["series:0"]
    )


def methods(data: Analytics, theme: Theme) -> Chart:
    """Paid payments by method, per currency: amount drawn, count in the table."""
    title = "Payment methods"
    headers = ["Method", "Currency", "Payments", "Amount"]
    if not data.methods:
        return _empty("methods", title, theme, headers)
    currencies = sorted({r.currency for r in data.methods})
    traces, roles = [], []
    for n, code in enumerate(currencies):
        rows = sorted((r for r in data.methods if r.currency == code), key=lambda r: r.amount)
        role = f"series:{n}"
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": code,
                "x": [_major(r.amount, code) for r in rows],
                "y": [r.label for r in rows],
                "customdata": [[r.count] for r in rows],
                "marker": {"color": _color(role, theme)},
                "xaxis": "x" if n == 0 else f"x{n + 1}",
                "yaxis": "y" if n == 0 else f"y{n + 1}",
                "hovertemplate": (
                    f"%{{x:,.2f}} {code}, %{{customdata[0]:,}} payments<extra></extra>"
                ),
            }
        )
        roles.append(role)
    layout = _layout(theme, hovermode="closest", height=max(220, 34 * len(data.methods) + 80))
    layout["margin"] = {**layout["margin"], "l": 150}
    if len(currencies) > 1:  # side by side, each its own amount axis
        width = 1 / len(currencies)
        for n, code in enumerate(currencies):
            suffix = "" if n == 0 else str(n + 1)
            layout[f"xaxis{suffix}"] = {
                "domain": [n * width + 0.04, (n + 1) * width - 0.04],
                "title": {"text": code},
                "gridcolor": theme.grid,
                "anchor": f"y{suffix}",
            }
            layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "gridcolor": theme.grid}
    else:
        layout["xaxis"] = {**layout["xaxis"], "title": {"text": currencies[0]}}
    table = [
        [r.label, r.currency, str(r.count), money.format_money(r.amount, r.currency)]
        for r in data.methods
    ]
    return Chart("methods", title, _figure(traces, layout), Table(headers, table), roles)


def funnel(links: Sequence[LinkFunnel], theme: Theme, *, title: str = "Link funnel") -> Chart:
    """Page views -> checkouts started -> paid, summed over ``links`` (counts only: a
    funnel of people, so links in different currencies can share it)."""
    headers = ["Link", "Views", "Checkouts started", "Paid", "Conversion", "Revenue"]
    if not links:
        return _empty("funnel", title, theme, headers)
    stages = [
        ("Page views", sum(f.views for f in links)),
        ("Checkouts started", sum(f.started for f in links)),
        ("Paid", sum(f.paid for f in links)),
    ]
    roles = [f"series:{n}" for n in range(3)]
    trace = {
        "type": "funnel",
        "y": [s for s, _ in stages],
        "x": [n for _, n in stages],
        "textinfo": "value+percent initial",
        "marker": {"color": [_color(role, theme) for role in roles]},
        "connector": {"line": {"color": theme.grid}},
        "hovertemplate": "%{x:,}<extra>%{y}</extra>",
    }
    layout = _layout(theme, showlegend=False, hovermode="closest", height=260)
    layout["margin"] = {**layout["margin"], "l": 130}
    rows = [
        [
            f.title,
            str(f.views),
            str(f.started),
            str(f.paid),
            _percent(f.conversion),
            ", ".join(money.format_money(r.gross, r.currency) for r in f.revenue) or "—",
        ]
        for f in links
    ]
    return Chart("funnel", title, _figure([trace], layout), Table(headers, rows), [roles])


def distribution(data: Analytics, theme: Theme) -> Chart:
    """How many paid payments fell in each amount band (1-2-5 steps), per currency."""
    title = "Payment amounts"
    headers = ["Currency", "From", "Up to", "Payments", "Amount"]
    if not data.distribution:
        return _empty("distribution", title, theme, headers)
    traces, roles, rows = [], [], []
    for n, d in enumerate(data.distribution):
        role = f"series:{n}"
        labels = [
            f"{money.format_money(b.low, d.currency)}–{money.format_money(b.high, d.currency)}"
            for b in d.bands
        ]
        traces.append(
            {
                "type": "bar",
                "name": d.currency,
                "x": labels,
                "y": [b.count for b in d.bands],
                "marker": {"color": _color(role, theme)},
                "xaxis": "x" if n == 0 else f"x{n + 1}",
                "yaxis": "y" if n == 0 else f"y{n + 1}",
                "hovertemplate": "%{y:,} payments<extra>%{x}</extra>",
            }
        )
        roles.append(role)
        rows += [
            [
                d.currency,
                money.format_money(b.low, d.currency),
                money.format_money(b.high, d.currency),
                str(b.count),
                money.format_money(b.amount, d.currency),
            ]
            for b in d.bands
        ]
    layout = _layout(theme, hovermode="closest", bargap=0.1)
    panels = len(data.distribution)
    if panels > 1:
        for n, d in enumerate(data.distribution):
            suffix = "" if n == 0 else str(n + 1)
            layout[f"xaxis{suffix}"] = {
                "domain": [n / panels + 0.03, (n + 1) / panels - 0.03],
                "title": {"text": d.currency},
                "anchor": f"y{suffix}",
                "gridcolor": theme.grid,
            }
            layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "gridcolor": theme.grid}
    return Chart("distribution", title, _figure(traces, layout), Table(headers, rows), roles)


def refunds(data: Analytics, theme: Theme) -> Chart:
    """Money refunded over time, on the days the refunds happened, per currency."""
    title = "Refunds"
    headers = ["Period", "Currency", "Refunds", "Refunded"]
    if not data.refunds:
        return _empty("refunds", title, theme, headers)
    x = _axis_x(data.starts, data.bucket)
    traces, roles = [], []
    for n, s in enumerate(data.refunds):
        suffix = "" if n == 0 else str(n + 1)
        role = f"series:{n + 2}"
        traces.append(
            {
                "type": "bar",
                "name": s.currency,
                "y": [_major(v, s.currency) for v in s.amounts],
                "marker": {"color": _color(role, theme)},
                "yaxis": f"y{suffix}",
                "hovertemplate": f"%{{y:,.2f}} {s.currency}<extra></extra>",
                **x,
            }
        )
        roles.append(role)
    layout = _layout(theme)
    layout["xaxis"] = {**layout["xaxis"], "type": "date"}
    for n, s in enumerate(data.refunds):
        suffix = "" if n == 0 else str(n + 1)
        axis: dict[str, Any] = {
            "title": {"text": s.currency},
            "gridcolor": theme.grid,
            "rangemode": "tozero",
        }
        if n:
            axis |= {"overlaying": "y", "side": "right", "showgrid": False}
        layout[f"yaxis{suffix}"] = {**layout.get(f"yaxis{suffix}", {}), **axis}
    rows = [
        [
            _label(day, data.bucket),
            s.currency,
            str(s.counts[i]),
            money.format_money(s.amounts[i], s.currency),
        ]
        for s in data.refunds
        for i, day in enumerate(data.starts)
        if s.counts[i] or s.amounts[i]
    ]
    return Chart("refunds", title, _figure(traces, layout), Table(headers, rows), roles)


def reasons(data: Analytics, theme: Theme) -> Chart:
    """Why attempts fail: declines and unpaid endings, with their share."""
    title = "Why attempts fail"
    headers = ["Reason", "Kind", "Count", "Share"]
    if not data.reasons:
        return _empty("reasons", title, theme, headers)
    shown = list(reversed(data.reasons[:12]))
    roles = [
        "status:failed" if r.kind in ("declined", "failed") else "status:expired" for r in shown
    ]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [r.count for r in shown],
        "y": [r.label for r in shown],
        "customdata": [[round(r.share * 100, 1)] for r in shown],
        "marker": {
            "color": [
                theme.status["failed" if r.kind in ("declined", "failed") else "expired"]
                for r in shown
            ]
        },
        "hovertemplate": "%{x:,} (%{customdata[0]} %)<extra></extra>",
    }
    layout = _layout(
        theme, showlegend=False, hovermode="closest", height=max(200, 30 * len(shown) + 70)
    )
    layout["margin"] = {**layout["margin"], "l": 220}
    kinds = {"declined": "Declined attempt", "failed": "Payment failed"}
    rows = [
        [r.label, kinds.get(r.kind, "Abandoned"), str(r.count), _percent(r.share)]
        for r in data.reasons
    ]
    return Chart("reasons", title, _figure([trace], layout), Table(headers, rows), [roles])


def top_links_table(links: Sequence[LinkFunnel]) -> Table:
    """The "top links" table: each link's funnel and revenue per currency."""
    return Table(
        [
            "Link",
            "Views",
            "Checkouts started",
            "Paid",
            "Units sold",
            "Conversion",
            "Revenue",
            "Net revenue",
        ],
        [
            [
                f.title,
                str(f.views),
                str(f.started),
                str(f.paid),
                str(f.units),
                _percent(f.conversion),
                ", ".join(money.format_money(r.gross, r.currency) for r in f.revenue) or "—",
                ", ".join(money.format_money(r.net, r.currency) for r in f.revenue) or "—",
            ]
            for f in links
        ],
    )


def support_table(overview: SupportOverview) -> Table:
    """The support overview's per-merchant table."""
    return Table(
        ["Merchant", "Volume", "Payments", "Success rate", "Failed attempts", "Webhook failures"],
        [
            [
                row.name,
                ", ".join(money.format_money(v.gross, v.currency) for v in row.volume) or "—",
                str(row.started),
                _percent(row.success_rate),
                str(row.failed_attempts),
                str(row.webhook_failures),
            ]
            for row in overview.rows
        ],
    )


CHARTS = (received, statuses, success_rate, methods, distribution, refunds, reasons)


def page(data: Analytics, theme: Theme) -> list[Chart]:
    """Every chart of the analytics page, in reading order (the funnel of its top links
    included)."""
    charts = [build(data, theme) for build in CHARTS]
    charts.insert(4, funnel(data.links, theme, title="Funnel of the top links"))
    return charts


def page_json(charts: Sequence[Chart], dark: Theme) -> str:
    """What the page sends to the browser: each chart's figure, and the colours its dark
    mode swaps in. Compact: measured in docs/scaling.md (<= 200 KB per page)."""
    return json.dumps(
        [
            {"key": c.key, "figure": c.figure.to_plotly_json(), "dark": c.colors(dark)}
            for c in charts
        ],
        separators=(",", ":"),
        default=_plain,
    )
