"""The console's page header (where you are, in the words of the sidebar) and its one
date format (``{{ payment.created_at|when }}`` -> "2 Dec 2026, 14:05 CET").

Unfold's own header would say "Paylinks > Memberships > alice@… — Owner at Acme" (the
app's name, the model's plural and ``str()`` of the object, capitalised); this one says
"Team > alice@acme.test", with the same names as the sidebar.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.context import Context
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from paylinks import timezones
from paylinks.labels import action_label

register = template.Library()

SECTIONS = {
    "paylinks.paymentlink": "Payment links",
    "paylinks.payment": "Payments",
    "paylinks.membership": "Team",
    "paylinks.merchant": "Merchant settings",
    "paylinks.auditentry": "Audit log",
    "paylinks.user": "Users",
    "paylinks.apiclient": "API clients",
}

ADD_TITLES = {
    "paylinks.paymentlink": "New payment link",
    "paylinks.membership": "Add a team member",
    "paylinks.merchant": "New merchant",
    "paylinks.user": "New user",
    "paylinks.apiclient": "New API client",
}


def object_title(obj: Any) -> str:
    label = obj._meta.label_lower
    if label == "paylinks.membership":
        return str(obj.user.email)
    if label == "paylinks.payment":
        return f"{obj.public_id} · {obj.amount_display}"
    if label == "paylinks.auditentry":
        return action_label(obj.action)
    return str(obj)


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def crumbs(context: Context) -> list[dict[str, str]]:
    opts = context.get("opts")
    if opts is None:
        title = context.get("title") or ""
        return [{"title": str(title), "link": ""}] if title else []
    label = opts.label_lower
    section = SECTIONS.get(label, str(opts.verbose_name_plural).capitalize())
    base = f"admin:{opts.app_label}_{opts.model_name}"
    parts = [{"title": section, "link": _url(f"{base}_changelist")}]
    original = context.get("original")
    target = original if original is not None and not isinstance(original, str) else None
    target = target or context.get("object")
    if context.get("add"):
        parts.append({"title": ADD_TITLES.get(label, f"New {opts.verbose_name}"), "link": ""})
    elif target is not None and hasattr(target, "_meta"):
        parts.append({"title": object_title(target), "link": _url(f"{base}_change", target.pk)})
        if context.get("deleted_objects") is not None:  # the delete confirmation page
            parts.append({"title": str(context.get("title") or "Delete"), "link": ""})
    return parts


@register.simple_tag(takes_context=True)
def console_header(context: Context) -> SafeString:
    return SafeString(render_to_string("console/header_title.html", {"parts": crumbs(context)}))


@register.filter
def when(value: Any) -> str:
    """A moment in the console's zone, which it names: the same text as the lists' and
    detail pages' ``display`` functions (``paylinks.timezones.when``)."""
    return timezones.when(value)


@register.filter
def day(value: Any) -> str:
    """A day ("2 Dec 2026") in the console's zone."""
    return timezones.day(value)


@register.simple_tag
def console_zone() -> str:
    """ "Europe/Copenhagen (CET)": the zone this page's times are in."""
    return timezones.zone_label()
