"""Who may see and change what. Every merchant-scoped query starts from here.

- Members see their merchants' data; owners and managers change it; viewers only read.
- Owners also manage the team and the merchant's settings.
- Support staff see every merchant and change nothing.
- Superusers run the platform and may do everything.

Customers' personal details (e-mail, name, phone, billing address) are the merchant's:
its own team -- owners, managers *and viewers* -- sees them in full. A viewer is the
merchant's own staff (a shop assistant answering "did Jane pay?", a bookkeeper matching
a transfer); what the role withholds is changing things, not reading the merchant's own
customers, and the merchant chooses who joins its team. Platform staff (support staff,
superusers without a role at that merchant) see them masked (``paylinks.privacy``) and
may reveal one payment's customer at a time, with a reason, for a few minutes; each
reveal is written to the audit log (``paylinks.services.support``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


# --- customers' personal details -------------------------------------------------------
#: Merchant roles that see their own customers' personal details in full.
CUSTOMER_DATA_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.VIEWER})


def customer_data_merchants(user: Any) -> QuerySet[Merchant]:
    """Merchants whose customers this person sees in full: by role only, never because
    the person is support staff or a superuser."""
    if not _is_person(user):
        return Merchant.objects.none()
    return Merchant.objects.filter(
        memberships__user=user, memberships__role__in=list(CUSTOMER_DATA_ROLES)
    )


def sees_customers(user: Any, merchant: Merchant) -> bool:
    return role_at(user, merchant) in CUSTOMER_DATA_ROLES


def can_reveal_customer(user: Any, merchant: Merchant) -> bool:
    """Platform staff who see this merchant's customers masked may reveal one payment's."""
    return sees_all_merchants(user) and not sees_customers(user, merchant)


@dataclass(frozen=True)
class CustomerAccess:
    """Whose customers one person sees in full during one request: the merchants where
    their role allows it, and the payments they have revealed (still in their time)."""

    merchant_ids: frozenset[int]
    revealed_payment_ids: frozenset[int] = frozenset()

    def shows(self, payment: Any) -> bool:
        return payment.merchant_id in self.merchant_ids or payment.pk in self.revealed_payment_ids


def customer_access(user: Any, revealed_payment_ids: Iterable[int] = ()) -> CustomerAccess:
    merchants = customer_data_merchants(user).values_list("pk", flat=True)
    return CustomerAccess(frozenset(merchants), frozenset(revealed_payment_ids))


def client_can_write(api_client: ApiClient, merchant: Merchant) -> bool:
    """An API client acts for its own merchant only, and only until it is revoked."""
    return api_client.revoked_at is None and api_client.merchant_id == merchant.pk
