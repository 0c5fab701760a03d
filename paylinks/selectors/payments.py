"""Reads of payments: by the identifiers customers and gateways hold, and what is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from paylinks.crypto import email_search_hashes
from paylinks.models import Merchant, Payment, PaymentEvent, PaymentStatus, Refund

from .links import UNSTARTED_GRACE

# A pending payment is re-checked this long after its session should have closed, and a
# processing (delayed-method) payment at most this often.
EXPIRY_GRACE = timedelta(minutes=1)
PROCESSING_RECHECK = timedelta(minutes=10)


def payment_get_by_session(session_id: str) -> Payment | None:
    """The payment a checkout session id belongs to, with its link and merchant."""
    if not session_id:
        return None
    return (
        Payment.objects.select_related("link", "link__merchant")
        .filter(gateway_session_id=session_id[:255])
        .first()
    )


def receipt_sent(payment: Payment) -> bool:
    """Whether the customer's receipt e-mail went out (the worker puts each send on the
    payment's timeline: notifications/payment_mail.py)."""
    return PaymentEvent.objects.filter(
        payment=payment, kind="email_sent", data__email="receipt"
    ).exists()


def payment_get_by_public_id(public_id: str) -> Payment | None:
    """A payment by its Paylinks id (``pay_...``), with its link."""
    if not public_id:
        return None
    return Payment.objects.select_related("link").filter(public_id=public_id[:32]).first()


def payments_with_customer_email(
    email: str, *, payments: QuerySet[Payment] | None = None
) -> QuerySet[Payment]:
    """The payments whose customer e-mail is exactly ``email`` (letter case and surrounding
    spaces ignored), found by the keyed hash stored beside the encrypted e-mail: an index
    lookup, no row decrypted. ``payments`` narrows the search (e.g. to the merchants a
    user may see); by default every payment is searched, so callers scope the result.
    """
    hashes = email_search_hashes(email)
    queryset = Payment.objects.all() if payments is None else payments
    if not hashes:
        return queryset.none()
    return queryset.filter(customer_email_hash__in=hashes)


def payment_for_gateway_object(gateway: str, obj: dict[str, Any]) -> Payment | None:
    """The payment a gateway object (session, intent, charge) is about, or None.

    Found by the session id, the intent id, or the metadata Paylinks put on the session.
    """
    metadata = obj.get("metadata") or {}
    query = Q()
    if obj.get("object") == "checkout.session" and obj.get("id"):
        query |= Q(gateway_session_id=obj["id"])
    if obj.get("object") == "payment_intent" and obj.get("id"):
        query |= Q(payment_intent_id=obj["id"])
    if obj.get("object") == "charge" and obj.get("payment_intent"):
        query |= Q(payment_intent_id=obj["payment_intent"])
    public_id = metadata.get("paylinks_payment") or obj.get("client_reference_id")
    if public_id:
        query |= Q(public_id=public_id)
    if not query:
        return None
    return Payment.objects.filter(query, gateway=gateway).first()


def payments_due_for_check(*, everything: bool = False, limit: int = 1000) -> list[int]:
    """Ids of pending payments that should have moved by now (all pending ones with
    ``everything``), oldest first: what the sweeper re-asks the gateway about."""
    now = timezone.now()
    pending = Payment.objects.filter(status=PaymentStatus.PENDING)
    if not everything:
        pending = pending.filter(
            Q(expires_at__lte=now - EXPIRY_GRACE, session_completed_at__isnull=True)
            # A checkout whose session was never opened (its request died): failed at once.
            | Q(gateway_session_id="", created_at__lte=now - UNSTARTED_GRACE)
            | Q(session_completed_at__isnull=False, last_synced_at__lte=now - PROCESSING_RECHECK)
            | Q(session_completed_at__isnull=False, last_synced_at__isnull=True)
        )
    return list(pending.order_by("created_at").values_list("pk", flat=True)[:limit])


def with_failed_attempts(queryset: QuerySet[Payment]) -> QuerySet[Payment]:
    """Annotate ``failed_attempts`` (how many attempts the gateway declined -- a card, a
    3-D Secure step -- while the checkout stayed open) and ``last_decline_code`` (why the
    latest one was declined). Read from the timeline per row shown, so a list page pays
    for its own rows only."""
    attempts = PaymentEvent.objects.filter(payment=OuterRef("pk"), kind="attempt_failed")
    count = attempts.order_by().values("payment").annotate(n=Count("pk")).values("n")
    last_code = (
        attempts.order_by("-created_at", "-id")
        .annotate(code=KeyTextTransform("code", "data"))
        .values("code")[:1]
    )
    return queryset.annotate(
        failed_attempts=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
        last_decline_code=Coalesce(
            Subquery(last_code, output_field=CharField()), Value(""), output_field=CharField()
        ),
    )


@dataclass(frozen=True)
class PaymentFilters:
    """What a list of payments can be narrowed by: the console's filters (status,
    currency, method, date range, link) plus an amount range, in minor units."""

    status: str = ""
    currency: str = ""
    method: str = ""
    link: str = ""
    """The link's id (slug)."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    """Exclusive upper bound."""
    amount_min: int | None = None
    amount_max: int | None = None


def payments_of_merchant(merchant: Merchant) -> QuerySet[Payment]:
    return Payment.objects.filter(merchant=merchant).select_related("link")


def payments_filtered(payments: QuerySet[Payment], filters: PaymentFilters) -> QuerySet[Payment]:
    """``payments`` narrowed by ``filters``; every filter stays within the queryset given,
    so a merchant-scoped list stays merchant-scoped whatever is asked."""
    lookups: dict[str, Any] = {}
    if filters.status:
        lookups["status"] = filters.status
    if filters.currency:
        lookups["currency"] = filters.currency.upper()
    if filters.method:
        lookups["payment_method_type"] = filters.method
    if filters.link:
        lookups["link__slug"] = filters.link
    if filters.created_from is not None:
        lookups["created_at__gte"] = filters.created_from
    if filters.created_to is not None:
        lookups["created_at__lt"] = filters.created_to
    if filters.amount_min is not None:
        lookups["amount__gte"] = filters.amount_min
    if filters.amount_max is not None:
        lookups["amount__lte"] = filters.amount_max
    return payments.filter(**lookups)


def payment_find(merchant: Merchant, identifier: str) -> Payment | None:
    """One of ``merchant``'s payments by any id a merchant holds: Paylinks' ``pay_...``,
    the gateway's payment intent ``pi_...`` or checkout session ``cs_...``. Another
    merchant's payment, or an unknown id, is None alike."""
    if not identifier or len(identifier) > 255:
        return None
    if identifier.startswith("pay_"):
        lookup = Q(public_id=identifier)
    elif identifier.startswith("pi_"):
        lookup = Q(payment_intent_id=identifier)
    elif identifier.startswith("cs_"):
        lookup = Q(gateway_session_id=identifier)
    else:
        return None
    return payments_of_merchant(merchant).filter(lookup).order_by("-created_at").first()


def payment_timeline(payment: Payment) -> list[PaymentEvent]:
    return list(payment.events.order_by("created_at", "id"))


def refunds_of(payment: Payment) -> QuerySet[Refund]:
    return payment.refunds.order_by("-created_at", "-id")
