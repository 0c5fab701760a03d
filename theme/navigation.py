"""Who sees which sidebar entry. Named by dotted path in ``UNFOLD["SIDEBAR"]``.

Each check mirrors the permission of the page it leads to, so the sidebar never offers
a page that would answer 403.
"""

from __future__ import annotations

from django.http import HttpRequest

from paylinks import permissions


def console_member(request: HttpRequest) -> bool:
    """Anyone who may enter the console: members, support staff, superusers."""
    return permissions.can_enter_console(request.user)


def platform_operator(request: HttpRequest) -> bool:
    """People and platform settings are for superusers only."""
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def platform_staff(request: HttpRequest) -> bool:
    """The webhook inbox: superusers and support staff (who read it)."""
    return permissions.sees_all_merchants(request.user)


def api_client_manager(request: HttpRequest) -> bool:
    """API clients: owners manage their merchant's; support staff and superusers read."""
    user = request.user
    return permissions.sees_all_merchants(user) or permissions.owned_merchants(user).exists()
