"""Streamed CSV exports for the console's lists.

Rows come from the same scoped, filtered queryset the list shows; the response is
streamed so an export of a million payments neither waits nor holds them in memory.
Amounts appear twice: in minor units (exact, for machines) and as the major amount a
person reads, always next to a currency column.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.utils import timezone
from unfold.decorators import action

from paylinks import money

# Spreadsheet programs run cells that start with these as formulas ("CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def minor(value: int | None) -> str:
    return "" if value is None else str(value)


def major(value: int | None, currency: str) -> str:
    return "" if value is None else money.format_major(value, currency, grouping=False)


def when(value: Any) -> str:
    return "" if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose ``write`` hands the line back (Django's streaming recipe)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Sequence[Column], rows: Iterable[Any], tz: Any = None) -> Iterator[str]:
    """CSV text line by line; dates in ``tz`` (the rows are read after the view returned)."""
    writer = csv.writer(_Echo())
    yield writer.writerow([c.header for c in columns])
    for row in rows:
        with timezone.override(tz or timezone.get_current_timezone()):
            cells = [_cell(c.value(row)) for c in columns]
        yield writer.writerow(cells)


def stream_csv(
    queryset: QuerySet[Any], columns: Sequence[Column], filename: str
) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_lines(columns, queryset.iterator(chunk_size=2000), timezone.get_current_timezone()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def export_changelist(
    model_admin: Any, request: HttpRequest, columns: Sequence[Column], filename: str
) -> HttpResponseBase:
    """The rows of the list as it is filtered and searched right now, as CSV."""
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        changelist_url = request.path.rsplit("/export/", 1)[0] + "/"
        messages.error(request, "Those filters could not be applied, so nothing was exported.")
        return HttpResponseRedirect(changelist_url)
    return stream_csv(changelist.queryset, columns, filename)


def keep_filters_on_export(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Make the "Export CSV" button export what the list shows (its filters and search)."""
    query = request.GET.urlencode()
    if query and isinstance(response, TemplateResponse) and response.context_data:
        for item in response.context_data.get("actions_list") or []:
            if isinstance(item, dict) and str(item.get("path", "")).endswith("/export/"):
                item["path"] = f"{item['path']}?{query}"
    return response


class CsvExports:
    """The two exports every console list has: "Export CSV" (the list as it is filtered
    and searched, among the list's actions) and "Export selected to CSV" (a bulk action).
    An admin sets ``csv_columns`` and ``csv_name`` and lists ``export_csv`` in
    ``actions_list`` and ``export_selected`` in ``actions``. Both read the admin's own
    scoped queryset, so an export never holds another merchant's rows."""

    csv_columns: Sequence[Column] = ()
    csv_name = "export"

    @action(description="Export selected to CSV", permissions=["view"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponseBase:
        return stream_csv(queryset, self.csv_columns, self.csv_name)

    @action(description="Export CSV", icon="download", url_path="export", permissions=["view"])
    def export_csv(self, request: HttpRequest) -> HttpResponseBase:
        return export_changelist(self, request, self.csv_columns, self.csv_name)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        return keep_filters_on_export(request, response)
