"""Customers' personal details in the console: who sees them in full during a request.

``paylinks.permissions`` decides by role (the merchant's own team sees its customers);
support staff see them masked (``paylinks.privacy``) and may reveal one payment's
customer at a time for ``PAYLINKS_REVEAL_MINUTES``. A reveal lives in the person's
session, so it ends with the session and never reaches another person or device; the
audited record of it is written by ``paylinks.services.customers.customer_reveal``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone

from paylinks import permissions
from paylinks.models import Payment

SESSION_KEY = "paylinks_customer_reveals"


def _reveals(request: HttpRequest) -> dict[str, float]:
    """{payment pk: until (a POSIX timestamp)} for the reveals still running."""
    session = getattr(request, "session", None)
    if session is None:
        return {}
    stored = session.get(SESSION_KEY) or {}
    now = timezone.now().timestamp()
    running = {
        str(pk): float(until)
        for pk, until in stored.items()
        if isinstance(until, int | float) and until > now
    }
    if running != stored:
        session[SESSION_KEY] = running
    return running


def remember_reveal(request: HttpRequest, payment: Payment, until: datetime) -> None:
    running = _reveals(request)
    running[str(payment.pk)] = until.timestamp()
    request.session[SESSION_KEY] = running
    request.__dict__.pop("_paylinks_customer_access", None)


def revealed_until(request: HttpRequest, payment: Payment) -> datetime | None:
    until = _reveals(request).get(str(payment.pk))
    return datetime.fromtimestamp(until, tz=UTC) if until else None


def access(request: HttpRequest) -> permissions.CustomerAccess:
    """Whose customers this request's person sees in full (worked out once per request)."""
    cached = request.__dict__.get("_paylinks_customer_access")
    if cached is None:
        revealed = [int(pk) for pk in _reveals(request) if pk.isascii() and pk.isdigit()]
        cached = permissions.customer_access(request.user, revealed)
        request.__dict__["_paylinks_customer_access"] = cached
    return cached


def with_customer_shown(queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    """Annotate each payment with ``customer_shown``: may this person see its customer in
    full? Display methods, exports and the payment page read it from the row."""
    seen = access(request)
    condition = Q()
    if seen.merchant_ids:
        condition |= Q(merchant_id__in=sorted(seen.merchant_ids))
    if seen.revealed_payment_ids:
        condition |= Q(pk__in=sorted(seen.revealed_payment_ids))
    if not condition:
        return queryset.annotate(customer_shown=Value(False, output_field=BooleanField()))
    return queryset.annotate(
        customer_shown=Case(
            When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )


def shown(payment: Any) -> bool:
    """Read the annotation; a payment loaded without it is shown masked."""
    return bool(getattr(payment, "customer_shown", False))
