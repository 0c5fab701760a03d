"""Callbacks named in the UNFOLD settings: environment badge, header and the home page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from paylinks import money, permissions
from paylinks.admin.display import LINK_STATE_VARIANTS, PAYMENT_STATUS_VARIANTS
from paylinks.models import PaymentStatus


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
    """The home page: what came in lately, per currency, and what to look at next."""
    from dashboards import selectors
    from paylinks.admin.links import price_label
    from paylinks.admin.payments import payment_method

    merchants = permissions.visible_merchants(request.user)
    data = selectors.overview(merchants=merchants)
    several = merchants[:2].count() > 1
    payments = selectors.recent_payments(merchants=merchants)
    links = selectors.recent_links(merchants=merchants)
    now = timezone.now()
    busiest = max((s.count for s in data.by_status), default=0)

    context.update(
        {
            "title": "Overview",
            "subtitle": None,
            "overview": data,
            "several_merchants": several,
            "can_create_links": permissions.writable_merchants(request.user).exists(),
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
            "success_rate": (None if data.success_rate is None else round(data.success_rate * 100)),
            "statuses": [
                {
                    "label": s.label,
                    "count": s.count,
                    "variant": PAYMENT_STATUS_VARIANTS[s.status],
                    "width": round(100 * s.count / busiest) if busiest else 0,
                    "url": reverse("admin:paylinks_payment_changelist") + f"?status={s.status}",
                }
                for s in data.by_status
                if s.count
            ],
            "recent_payments": [
                {
                    "url": reverse("admin:paylinks_payment_change", args=[p.pk]),
                    "reference": p.public_id,
                    "amount": p.amount_display,
                    "status": p.get_status_display(),
                    "variant": PAYMENT_STATUS_VARIANTS[p.status],
                    "method": payment_method(p),
                    "link": p.link.title,
                    "merchant": p.merchant.name,
                    "created_at": p.created_at,
                    "since": timesince(p.created_at, now, depth=1),
                }
                for p in payments
            ],
            "recent_links": [
                {
                    "url": reverse("admin:paylinks_paymentlink_change", args=[link.pk]),
                    "title": link.title,
                    "price": price_label(link),
                    "state": link.state_at(now, getattr(link, "completed_count", 0)),
                    "paid": getattr(link, "completed_count", 0),
                    "public_url": link.public_url,
                    "merchant": link.merchant.name,
                }
                for link in links
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
            "state_variants": LINK_STATE_VARIANTS,
        }
    )
    for link in context["recent_links"]:
        link["variant"] = LINK_STATE_VARIANTS[link["state"]]
        link["state_label"] = link["state"].label
    return context
