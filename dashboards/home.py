"""The console's home page as plain data: what came in lately, per currency, and what to
look at next. ``theme.callbacks.dashboard`` hands this to Unfold's index template."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from paylinks import money, permissions
from paylinks.admin.display import LINK_STATE_VARIANTS, PAYMENT_STATUS_VARIANTS
from paylinks.labels import payment_method_label, price_label
from paylinks.models import Payment, PaymentLink, PaymentStatus

from . import selectors


def home_context(user: Any) -> dict[str, Any]:
    merchants = permissions.visible_merchants(user)
    zone = selectors.zone_of(merchants)
    data = selectors.home_overview(merchants=merchants, zone=zone)
    busiest = max((s.count for s in data.by_status), default=0)
    now = timezone.now()
    return {
        "title": "Overview",
        "subtitle": None,
        "overview": data,
        "zone": zone,
        "several_merchants": merchants[:2].count() > 1,
        "can_create_links": permissions.writable_merchants(user).exists(),
        "received": [
            {
                "currency": total.currency,
                "amount": money.format_money(total.amount, total.currency),
                "net": money.format_money(total.net, total.currency),
                "refunded": money.format_money(total.refunded, total.currency)
                if total.refunded
                else "",
                "count": total.count,
            }
            for total in data.received
        ],
        "success_rate": None if data.success_rate is None else round(data.success_rate * 100),
        "statuses": [
            {
                "label": s.label,
                "count": s.count,
                "variant": PAYMENT_STATUS_VARIANTS[s.status],
                "width": round(100 * s.count / busiest) if busiest else 0,
                "url": reverse("admin:paylinks_payment_changelist") + f"?status__exact={s.status}",
            }
            for s in data.by_status
            if s.count
        ],
        "recent_payments": [
            _payment_row(p, now) for p in selectors.recent_payments(merchants=merchants)
        ],
        "recent_links": [
            _link_row(link, now) for link in selectors.recent_links(merchants=merchants)
        ],
        "link_states": [
            {
                "label": s.label,
                "count": s.count,
                "variant": LINK_STATE_VARIANTS[s.status],
                "url": reverse("admin:paylinks_paymentlink_changelist") + f"?state={s.status}",
            }
            for s in data.links_by_state
        ],
        "still_open": next(
            (s.count for s in data.by_status if s.status == PaymentStatus.PENDING), 0
        ),
        "links_url": reverse("admin:paylinks_paymentlink_changelist"),
        "add_link_url": reverse("admin:paylinks_paymentlink_add"),
        "payments_url": reverse("admin:paylinks_payment_changelist"),
        "analytics_url": reverse("analytics:index"),
        "state_variants": LINK_STATE_VARIANTS,
    }


def _payment_row(payment: Payment, now: Any) -> dict[str, Any]:
    return {
        "url": reverse("admin:paylinks_payment_change", args=[payment.pk]),
        "reference": payment.public_id,
        "amount": payment.amount_display,
        "status": payment.get_status_display(),
        "variant": PAYMENT_STATUS_VARIANTS[payment.status],
        "method": payment_method_label(
            payment.payment_method_type, payment.card_brand, payment.card_last4
        )
        or "—",
        "link": payment.link.title,
        "merchant": payment.merchant.name,
        "created_at": payment.created_at,
        "since": timesince(payment.created_at, now, depth=1),
    }


def _link_row(link: PaymentLink, now: Any) -> dict[str, Any]:
    paid = getattr(link, "completed_count", 0)
    state = link.state_at(now, paid)
    return {
        "url": reverse("admin:paylinks_paymentlink_change", args=[link.pk]),
        "title": link.title,
        "price": price_label(link),
        "state": state,
        "state_label": state.label,
        "variant": LINK_STATE_VARIANTS[state],
        "paid": paid,
        "public_url": link.public_url,
        "merchant": link.merchant.name,
    }
