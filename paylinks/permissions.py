"""Who may see and change what. Every merchant-scoped query starts from here.

- Members see their merchants' data; owners and managers change it; viewers only read.
- Owners also manage the team and the merchant's settings.
- Support staff see every merchant and change nothing.
- Superusers run the platform and may do everything.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from paylinks.models import ApiClient, Membership, Merchant, Role
from paylinks.models.merchants import WRITE_ROLES


def _is_person(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def sees_all_merchants(user: Any) -> bool:
    return _is_person(user) and (user.is_superuser or user.is_support)


def visible_merchants(user: Any) -> QuerySet[Merchant]:
    if not _is_person(user):
        return Merchant.objects.none()
    if sees_all_merchants(user):
        return Merchant.objects.all()
    return Merchant.objects.filter(memberships__user=user)


def writable_merchants(user: Any) -> QuerySet[Merchant]:
    return _merchants_with_roles(user, WRITE_ROLES)


def owned_merchants(user: Any) -> QuerySet[Merchant]:
    return _merchants_with_roles(user, {Role.OWNER})


def _merchants_with_roles(user: Any, roles: Any) -> QuerySet[Merchant]:
    if not _is_person(user):
        return Merchant.objects.none()
    if user.is_superuser:
        return Merchant.objects.all()
    return Merchant.objects.filter(memberships__user=user, memberships__role__in=list(roles))


def role_at(user: Any, merchant: Merchant) -> str | None:
    if not _is_person(user):
        return None
    return (
        Membership.objects.filter(user=user, merchant=merchant)
        .values_list("role", flat=True)
        .first()
    )


def can_view(user: Any, merchant: Merchant) -> bool:
    return sees_all_merchants(user) or role_at(user, merchant) is not None


def can_write(user: Any, merchant: Merchant) -> bool:
    return _is_person(user) and (user.is_superuser or role_at(user, merchant) in WRITE_ROLES)


def can_manage_team(user: Any, merchant: Merchant) -> bool:
    return _is_person(user) and (user.is_superuser or role_at(user, merchant) == Role.OWNER)


def can_enter_console(user: Any) -> bool:
    return sees_all_merchants(user) or (
        _is_person(user) and Membership.objects.filter(user=user).exists()
    )


def client_can_write(api_client: ApiClient, merchant: Merchant) -> bool:
    """An API client acts for its own merchant only, and only until it is revoked."""
    return api_client.revoked_at is None and api_client.merchant_id == merchant.pk
