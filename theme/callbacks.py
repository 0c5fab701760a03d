"""Callbacks named in the UNFOLD settings: environment badge, header and the home page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from dashboards.home import home_context
from paylinks import permissions


def environment(request: HttpRequest) -> list[str] | None:
    if settings.PAYLINKS_GATEWAY == "sandbox":
        return ["Test mode", "warning"]
    if settings.DEBUG:
        return ["Development", "info"]
    return None


def site_subheader(request: HttpRequest) -> str:
    """Whose console this is, under the Paylinks name in the sidebar."""
    user = request.user
    if permissions.sees_all_merchants(user):
        return "Support · all merchants" if getattr(user, "is_support", False) else "Platform"
    names = list(permissions.visible_merchants(user).values_list("name", flat=True)[:3])
    if not names:
        return "Merchant console"
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def dashboard(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """The home page (Unfold's ``DASHBOARD_CALLBACK``); its data comes from dashboards/."""
    context.update(home_context(request.user))
    return context
