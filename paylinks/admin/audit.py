from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import DropdownFilter
from unfold.decorators import display
from unfold.paginator import InfinitePaginator

from paylinks import money
from paylinks.forms import MONEY_FIELDS
from paylinks.labels import ACTION_LABELS, action_label
from paylinks.models import AuditEntry, PaymentLink

from . import display as ui
from .display import Variants
from .filters import DayRangeFilter, MerchantFilter
from .mixins import MerchantScopedAdmin
from .site import site

ACTION_COLOURS = Variants(
    {
        "link.created": "success",
        "link.activated": "success",
        "link.deactivated": "danger",
        "member.added": "info",
        "member.removed": "danger",
        "member.role_changed": "warning",
    }
)

FIELD_LABELS = {
    "amount": "price",
    "custom_amount_min": "minimum",
    "custom_amount_max": "maximum",
    "custom_amount_preset": "suggested amount",
    "is_active": "active",
    "after_payment": "after payment",
    "expires_at": "expires",
    "payment_limit": "payment limit",
    "brand_color": "brand colour",
    "support_email": "support e-mail",
    "inactive_message": "inactive message",
    "default_currency": "default currency",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ")


def value_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


class ActionFilter(DropdownFilter):
    title = "what happened"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ACTION_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.register(AuditEntry, site=site)
class AuditEntryAdmin(MerchantScopedAdmin, ModelAdmin):
    """Read-only: the audit trail is append-only for everyone, superusers included."""

    list_display = ["when", "actor_label", "action_badge", "subject", "merchant"]
    list_filter = [ActionFilter, ("created_at", DayRangeFilter.titled("date")), MerchantFilter]
    list_filter_submit = True
    search_fields = ["actor_email", "object_repr", "=object_id"]
    search_help_text = "Search by e-mail or item"
    list_select_related = ["merchant"]
    fieldsets = [
        (None, {"fields": [("when", "actor_label"), ("action_label", "subject")]}),
        ("What changed", {"fields": ["changes_table"]}),
        ("Record", {"fields": [("merchant", "record")]}),
    ]
    show_full_result_count = False
    paginator = InfinitePaginator  # the trail only grows: never count it
    list_disable_select_all = True
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        return super().changelist_view(request, {"title": "Audit log", **(extra_context or {})})

    @display(description="Who", ordering="actor_email")
    def actor_label(self, obj: AuditEntry) -> str:
        return obj.actor_email or "Paylinks (automatic)"

    @display(description="What happened", label=ACTION_COLOURS, ordering="action")
    def action_badge(self, obj: AuditEntry) -> tuple[str, str]:
        return obj.action, action_label(obj.action)

    @display(description="When", ordering="created_at")
    def when(self, obj: AuditEntry) -> str:
        return format_html('<span class="whitespace-nowrap">{}</span>', ui.when(obj.created_at))

    @display(description="What happened")
    def action_label(self, obj: AuditEntry) -> str:
        return ui.badge(action_label(obj.action), ACTION_COLOURS[obj.action])

    @display(description="About", ordering="object_repr")
    def subject(self, obj: AuditEntry) -> str:
        return obj.object_repr or "—"

    @display(description="Changed item")
    def record(self, obj: AuditEntry) -> str:
        pages = {
            "paylinks.paymentlink": ("admin:paylinks_paymentlink_change", "Payment link"),
            "paylinks.membership": ("admin:paylinks_membership_change", "Team member"),
            "paylinks.merchant": ("admin:paylinks_merchant_change", "Merchant settings"),
            "paylinks.apiclient": ("admin:paylinks_apiclient_change", "API client"),
        }
        if obj.object_type not in pages:
            return f"{obj.object_type} #{obj.object_id}"
        name, label = pages[obj.object_type]
        model = apps.get_model(obj.object_type)
        if not model._default_manager.filter(pk=obj.object_id).exists():
            return f"{label} (no longer exists)"
        url = reverse(name, args=[obj.object_id])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, label)

    @display(description="Changes")
    def changes_table(self, obj: AuditEntry) -> str:
        if not obj.changes:
            return "—"
        currencies = _currencies(obj)
        rows = format_html_join(
            "",
            '<tr><th class="paylinks-diff-field">{}</th><td class="paylinks-diff-old">{}</td>'
            '<td class="paylinks-diff-arrow">→</td><td class="paylinks-diff-new">{}</td></tr>',
            (
                (
                    field_label(field),
                    _value(field, _pair(change)[0], currencies[0]),
                    _value(field, _pair(change)[1], currencies[1]),
                )
                for field, change in sorted(obj.changes.items())
            ),
        )
        return format_html('<table class="paylinks-diff">{}</table>', rows)


def _pair(change: Any) -> tuple[Any, Any]:
    if isinstance(change, list | tuple) and len(change) == 2:
        return change[0], change[1]
    return None, change


def _currencies(entry: AuditEntry) -> tuple[str | None, str | None]:
    """The currency amounts in this entry were in, before and after the change."""
    if "currency" in entry.changes:
        before, after = _pair(entry.changes["currency"])
        return before or after, after or before
    if entry.object_type != "paylinks.paymentlink":
        return None, None
    current = (
        PaymentLink.objects.filter(pk=entry.object_id).values_list("currency", flat=True).first()
    )
    return current, current


def _value(field: str, value: Any, currency: str | None) -> str:
    if field in MONEY_FIELDS and isinstance(value, int) and isinstance(currency, str):
        return money.format_money(value, currency)
    return value_text(value)
