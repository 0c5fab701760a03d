"""Time zones and the one date format of the console.

A merchant reports in one zone (``Merchant.timezone``): the console shows its times there
and says so, its date filters and analytics start "today" at that zone's midnight. Every
moment is written the same way, "2 Dec 2026, 14:05 CET", by :func:`when` -- the admin's
``display`` functions (``paylinks.admin.display``) and the templates' ``|when`` filter
(``theme.templatetags.console``) both call it. See docs/decisions.md.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format

#: Django ``date`` format codes; :func:`when` adds the zone's abbreviation.
WHEN_FORMAT = "j M Y, H:i"
DAY_FORMAT = "j M Y"


def zone(name: str | None) -> tzinfo:
    """A merchant's reporting zone by name; the site's zone for a name zoneinfo lacks."""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def show_times_of(merchant: Any) -> None:
    """Show this request's times in ``merchant``'s reporting zone (an object's page, a list
    filtered to one merchant). The console's view wrapper restores its zone afterwards."""
    if merchant is not None:
        timezone.activate(zone(getattr(merchant, "timezone", None)))


def abbreviation(local: datetime) -> str:
    """ "CET", "NZDT", "UTC"; "UTC+13" for a zone with no letters (zoneinfo says "+13")."""
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


def zone_label(moment: datetime | None = None) -> str:
    """ "Europe/Copenhagen (CET)": the zone the console shows times in, named."""
    name = str(timezone.get_current_timezone())
    short = abbreviation(timezone.localtime(moment or timezone.now()))
    return name if short == name else f"{name} ({short})"


def when(value: datetime | None) -> str:
    """ "22 Nov 2026, 09:40 CET" in the current zone, which it names: support staff (site
    time) and a merchant (its own zone) read the same moment differently, and a customer
    on the phone says a third."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{date_format(local, WHEN_FORMAT)} {abbreviation(local)}"


def day(value: datetime | None) -> str:
    """ "22 Nov 2026" in the current zone."""
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), DAY_FORMAT)
