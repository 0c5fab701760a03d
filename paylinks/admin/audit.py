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

from paylinks import money, permissions
from paylinks.forms import MONEY_FIELDS
from paylinks.labels import ACTION_GROUPS, ACTION_LABELS, action_label
from paylinks.models import AuditEntry, Payment, PaymentLink, RefundReason

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
        "payment.refund_requested": "primary",
        "payment.over_limit_refunded": "primary",
        "payment.customer_revealed": "warning",
        "webhook.reprocessed": "info",
        "auth.signed_in": "success",
        "auth.sign_in_failed": "danger",
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
    "refund": "amount refunded",
    "address": "from address",
    "locked out": "locked out",
    "minutes": "shown for (minutes)",
}

# Values that are codes, said in words.
VALUE_LABELS = {"reason": dict(RefundReason.choices)}


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


def _platform_action(action: str) -> bool:
    return action.startswith(("auth.", "webhook."))


class ActionFilter(DropdownFilter):
    """One action, or a group of them ("All refunds", "All sign-ins and failures")."""

    title = "what happened"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Platform entries (sign-ins, the webhook inbox) are offered to platform staff only:
        # nobody else can see them.
        everything = permissions.sees_all_merchants(request.user)
        groups = [
            (f"group:{key}", label)
            for key, (label, actions) in ACTION_GROUPS.items()
            if everything or not all(_platform_action(a) for a in actions)
        ]
        actions = [
            (a, label)
            for a, label in ACTION_LABELS.items()
            if everything or not _platform_action(a)
        ]
        return groups + actions

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value.startswith("group:"):
            _, actions = ACTION_GROUPS.get(value.removeprefix("group:"), ("", ()))
            return queryset.filter(action__in=actions)
        return queryset.filter(action=value)


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
        ("Details", {"fields": ["changes_table"]}),
        ("Record", {"fields": [("merchant", "record")]}),
    ]
    show_full_result_count = False
    paginator = InfinitePaginator  # the trail only grows: never count it
    list_disable_select_all = True
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """The person's merchants' entries; platform staff also read the platform's own
        (sign-ins, webhook reprocessing), which belong to no merchant."""
        if permissions.sees_all_merchants(request.user):
            return super(MerchantScopedAdmin, self).get_queryset(request)  # every entry
        return super().get_queryset(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        return super().changelist_view(request, {"title": "Audit log", **(extra_context or {})})

    @display(description="Who", ordering="actor_email")
    def actor_label(self, obj: AuditEntry) -> str:
        if obj.actor_email:
            return obj.actor_email
        if obj.action.startswith("auth."):
            return "Someone not signed in"
        return "Paylinks (automatic)"

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

    @display(description="Item")
    def record(self, obj: AuditEntry) -> str:
        pages = {
            "paylinks.paymentlink": ("admin:paylinks_paymentlink_change", "Payment link"),
            "paylinks.membership": ("admin:paylinks_membership_change", "Team member"),
            "paylinks.merchant": ("admin:paylinks_merchant_change", "Merchant settings"),
            "paylinks.payment": ("admin:paylinks_payment_change", "Payment"),
            "paylinks.webhookevent": ("admin:paylinks_webhookevent_change", "Webhook event"),
            "paylinks.apiclient": ("admin:paylinks_apiclient_change", "API client"),
        }
        if obj.object_type == "auth.unknown_account":
            return "No account has this address"
        if obj.object_type == "paylinks.user":
            return f"Account {obj.object_repr}"
        if obj.object_type not in pages:
            return f"{obj.object_type} #{obj.object_id}"
        name, label = pages[obj.object_type]
        model = apps.get_model(obj.object_type)
        if not model._default_manager.filter(pk=obj.object_id).exists():
            return f"{label} (no longer exists)"
        url = reverse(name, args=[obj.object_id])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, label)

    @display(description="Details")
    def changes_table(self, obj: AuditEntry) -> str:
        if not obj.changes:
            return "—"
        currencies = _currencies(obj)
        if not any(_is_pair(change) for change in obj.changes.values()):
            # A record of something done (a reveal, a sign-in), not a before/after change.
            rows = format_html_join(
                "",
                '<tr><th class="paylinks-diff-field">{}</th><td>{}</td></tr>',
                (
                    (field_label(field), _value(field, value, currencies[1]))
                    for field, value in obj.changes.items()
                ),
            )
            return format_html('<table class="paylinks-diff">{}</table>', rows)
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


def _is_pair(change: Any) -> bool:
    return isinstance(change, list | tuple) and len(change) == 2


def _pair(change: Any) -> tuple[Any, Any]:
    if _is_pair(change):
        return change[0], change[1]
    return None, change


def _currencies(entry: AuditEntry) -> tuple[str | None, str | None]:
    """The currency amounts in this entry were in, before and after the change."""
    if "currency" in entry.changes:
        before, after = _pair(entry.changes["currency"])
        return before or after, after or before
    rows: dict[str, QuerySet[Any]] = {
        "paylinks.paymentlink": PaymentLink.objects.all(),
        "paylinks.payment": Payment.objects.all(),
    }
    found = rows.get(entry.object_type)
    if found is None or not (str(entry.object_id).isascii() and str(entry.object_id).isdigit()):
        return None, None
    current = found.filter(pk=entry.object_id).values_list("currency", flat=True).first()
    return current, current


def _value(field: str, value: Any, currency: str | None) -> str:
    is_money = field in MONEY_FIELDS or field == "refund"
    if is_money and isinstance(value, int) and isinstance(currency, str):
        return money.format_money(value, currency)
    if isinstance(value, str) and value in VALUE_LABELS.get(field, {}):
        return str(VALUE_LABELS[field][value])
    return value_text(value)
