from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet, Sum
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.forms import BaseDialogForm
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from paylinks import money, permissions
from paylinks.labels import decline_label, declined_attempts_label, payment_method_label
from paylinks.models import Payment, PaymentEvent, PaymentStatus, Refund, RefundReason
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.privacy import CustomerDetails, customer_details, looks_like_email
from paylinks.selectors.payments import payments_with_customer_email, with_failed_attempts
from paylinks.services import customers as customer_services
from paylinks.services import refunds as refund_services

from . import customers, exports
from . import display as ui
from .filters import (
    AmountRangeFilter,
    CurrencyFilter,
    DayRangeFilter,
    LinkFilter,
    MerchantFilter,
    MethodFilter,
)
from .mixins import MerchantScopedAdmin, actor, back_to_change_page, refresh_in_place
from .site import site

STATUS_TEXT = dict(PaymentStatus.choices)

EVENT_LABELS = {
    "created": "Checkout started",
    "status_changed": "Status changed",
    "processing": "Customer finished checkout",
    "attempt_failed": "Attempt declined",
    "over_limit": "Paid beyond the link's limit",
    "refund_requested": "Refund requested",
    "refund_failed": "Refund failed",
    "email_sent": "E-mail sent",
    "email_failed": "E-mail not sent",
}


def payment_method(payment: Payment) -> str:
    """ "Visa •••• 4242", "SEPA Direct Debit", or a dash when the gateway has not said."""
    return (
        payment_method_label(payment.payment_method_type, payment.card_brand, payment.card_last4)
        or "—"
    )


def customer_of(payment: Payment) -> CustomerDetails:
    """The payment's customer as the person looking may see it (in full, or masked)."""
    return customer_details(payment, full=customers.shown(payment))


def declines_text(payment: Payment) -> str:
    """ "1 declined attempt (insufficient funds)" for a payment that did not (yet) take
    money, "" otherwise. Needs ``with_failed_attempts``; a payment read without it says
    nothing rather than guess."""
    if payment.status in COMPLETED_STATUSES:
        return ""
    count = getattr(payment, "failed_attempts", 0) or 0
    code = getattr(payment, "last_decline_code", "") or payment.failure_code
    return declined_attempts_label(count, code)


class PartOfThePayment(TabularInline):
    """A read-only table on the payment's page. Whoever may see the payment (the parent
    admin has already scoped it to the person's merchants) sees these rows; nobody edits
    them here."""

    extra = 0
    can_delete = False
    show_title = False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PaymentEventInline(PartOfThePayment):
    """The payment's timeline, oldest first: what happened, from where, and when."""

    model = PaymentEvent
    fields = ["when", "what", "change", "message", "source"]
    readonly_fields = fields
    verbose_name = "timeline event"
    verbose_name_plural = "Timeline"
    empty_value_display = "—"

    @display(description="When")
    def when(self, event: PaymentEvent) -> str:
        return ui.when(event.created_at)

    @display(description="What happened")
    def what(self, event: PaymentEvent) -> str:
        label = EVENT_LABELS.get(event.kind) or event.kind.replace("_", " ").replace(".", " ")
        code = (event.data or {}).get("code") if event.kind == "attempt_failed" else None
        if code and isinstance(code, str):
            return f"{label}: {decline_label(code)}"
        return label

    @display(description="Status")
    def change(self, event: PaymentEvent) -> str:
        before = STATUS_TEXT.get(event.from_status, event.from_status)
        after = STATUS_TEXT.get(event.to_status, event.to_status)
        if before and after:
            return f"{before} → {after}"
        return str(after or before or "—")


class RefundInline(PartOfThePayment):
    """Refunds asked for on this payment, and where each one stands with the gateway."""

    model = Refund
    fields = ["when", "refund_amount", "reason", "note", "refund_status", "created_by"]
    readonly_fields = fields
    verbose_name = "refund"
    verbose_name_plural = "Refunds"

    @display(description="When")
    def when(self, refund: Refund) -> str:
        return ui.when(refund.created_at)

    @display(description="Amount")
    def refund_amount(self, refund: Refund) -> str:
        return money.format_money(refund.amount, refund.payment.currency)

    @display(description="Status")
    def refund_status(self, refund: Refund) -> str:
        label = {"succeeded": "success", "failed": "danger"}.get(refund.status, "info")
        return ui.badge(refund.get_status_display(), label)


def _clock(moment: Any) -> str:
    """ "10:42 CET": a time with its zone, for things that end soon."""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'H:i')} {ui.abbreviation(local)}"


def _status_html(payment: Payment) -> SafeString:
    """The status badge and, for a payment with declined attempts, how many and why:
    "Pending" alone would hide that the customer's card was refused."""
    badge = ui.badge(payment.get_status_display(), ui.PAYMENT_STATUS_VARIANTS[payment.status])
    declined = declines_text(payment)
    if not declined:
        return badge
    return format_html(
        '<span class="paylinks-status">{}<span class="paylinks-declines">{}</span></span>',
        badge,
        declined,
    )


# Reasons a person can choose; "beyond the link's limit" is Paylinks' own.
REFUND_REASONS = [(v, label) for v, label in RefundReason.choices if v != RefundReason.OVER_LIMIT]


class RefundForm(BaseDialogForm):
    """The refund dialog: the amount in major units, as everywhere in the console."""

    amount = forms.CharField(
        label="Amount to refund",
        required=False,
        widget=UnfoldAdminTextInputWidget(attrs={"inputmode": "decimal"}),
        help_text="Leave empty to refund everything that is left.",
    )
    reason = forms.ChoiceField(
        label="Reason",
        choices=REFUND_REASONS,
        initial=RefundReason.REQUESTED_BY_CUSTOMER,
        widget=UnfoldAdminSelectWidget,
    )
    note = forms.CharField(
        label="Note for your team",
        required=False,
        max_length=255,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payment = (
            Payment.objects.filter(merchant__in=permissions.visible_merchants(self.request.user))
            .filter(pk=self.object_id)
            .first()
            if self.object_id and str(self.object_id).isascii() and str(self.object_id).isdigit()
            else None
        )
        if self.payment is not None:
            left = refund_services.refundable_amount(self.payment)
            self.fields["amount"].widget.attrs["placeholder"] = money.format_major(
                left, self.payment.currency, grouping=False
            )
            self.fields["amount"].help_text = (
                f"In {self.payment.currency}. Leave empty to refund everything that is "
                f"left: {money.format_money(left, self.payment.currency)}."
            )

    def clean_amount(self) -> int | None:
        raw = (self.cleaned_data.get("amount") or "").strip()
        if not raw or self.payment is None:
            return None
        try:
            minor = money.parse_major(raw, self.payment.currency, charge=False)
        except money.MoneyError as exc:
            raise ValidationError(str(exc)) from None
        if minor <= 0:
            raise ValidationError("Enter an amount greater than zero.")
        left = refund_services.refundable_amount(self.payment)
        if minor > left:
            raise ValidationError(
                "You can refund at most "
                f"{money.format_money(left, self.payment.currency)} of this payment."
            )
        return minor


class RevealForm(BaseDialogForm):
    """Support's reveal dialog: the reason is required and goes to the audit log."""

    reason = forms.CharField(
        label="Why do you need this customer's details?",
        min_length=customer_services.REASON_MIN_LENGTH,
        max_length=500,
        widget=UnfoldAdminTextareaWidget(
            attrs={"rows": 3, "placeholder": "e.g. Ticket 4821: the customer asks for a receipt"}
        ),
        help_text="Recorded in the audit log with your name and the time; the merchant's "
        "owners can read it.",
    )


PAYMENT_COLUMNS = [
    exports.Column("payment", lambda p: p.public_id),
    exports.Column("created_at", lambda p: exports.when(p.created_at)),
    exports.Column("completed_at", lambda p: exports.when(p.completed_at)),
    exports.Column("merchant", lambda p: p.merchant.name),
    exports.Column("link", lambda p: p.link.title),
    exports.Column("link_url", lambda p: p.link.public_url),
    exports.Column("status", lambda p: p.status),
    exports.Column("currency", lambda p: p.currency),
    exports.Column("amount_minor", lambda p: exports.minor(p.amount)),
    exports.Column("amount", lambda p: exports.major(p.amount, p.currency)),
    exports.Column("quantity", lambda p: p.quantity),
    exports.Column("unit_amount", lambda p: exports.major(p.unit_price, p.currency)),
    exports.Column("refunded_minor", lambda p: exports.minor(p.amount_refunded)),
    exports.Column("refunded", lambda p: exports.major(p.amount_refunded, p.currency)),
    exports.Column("method", lambda p: p.payment_method_type),
    exports.Column("card_brand", lambda p: p.card_brand),
    exports.Column("card_last4", lambda p: p.card_last4),
    exports.Column("payment_intent", lambda p: p.payment_intent_id),
    exports.Column("checkout_session", lambda p: p.gateway_session_id),
    # Masked on the rows whose customers the exporting person may not see in full.
    exports.Column("customer_email", lambda p: customer_of(p).email),
    exports.Column("customer_name", lambda p: customer_of(p).name),
    exports.Column("declined_attempts", lambda p: getattr(p, "failed_attempts", 0)),
]


@admin.register(Payment, site=site)
class PaymentAdmin(exports.CsvExports, MerchantScopedAdmin, ModelAdmin):
    """Payments are read-only in the console: only gateways and services change them.

    Customers' personal details are shown in full to the merchant's own team and masked
    to support staff, who may reveal one payment's customer with a reason (audited).
    """

    list_display = [
        "reference",
        "amount_label",
        "quantity_label",
        "status_badge",
        "method",
        "link_title",
        "merchant",
        "created",
    ]
    list_display_links = ["reference"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        CurrencyFilter,
        AmountRangeFilter,
        MethodFilter,
        LinkFilter,
        ("created_at", DayRangeFilter.titled("date")),
        MerchantFilter,
    ]
    list_filter_submit = True
    search_fields = ["=public_id", "=payment_intent_id", "=gateway_session_id", "link__title"]
    search_help_text = "Search: pay_…, pi_…, cs_…, the customer's exact e-mail, or link title"
    list_select_related = ["link", "merchant"]
    list_per_page = 50
    paginator = InfinitePaginator
    show_full_result_count = False
    list_disable_select_all = True  # "Export CSV" exports the whole filtered list
    inlines = [PaymentEventInline, RefundInline]
    actions = ["export_selected"]
    actions_list = ["export_csv"]
    csv_columns, csv_name = PAYMENT_COLUMNS, "payments"
    actions_detail = ["reveal_customer", "refund_payment"]
    change_form_before_template = "console/payments/identifiers.html"
    fieldsets: list[tuple[str, dict[str, Any]]] = [
        (
            "Payment",
            {
                "fields": [
                    "status_label",
                    ("amount_label", "refunded_label"),
                    "quantity_label",
                    ("method", "link_admin"),
                    ("started", "paid_at"),
                    "failure",
                ]
            },
        ),
        (
            "Customer",
            {"fields": [("customer_email_shown", "customer_name_shown"),
                        ("customer_phone_shown", "billing")]},
        ),
        (
            "Gateway",
            {
                "classes": ["collapse"],
                "fields": [
                    ("gateway", "payment_intent_id"),
                    "gateway_session_id",
                    ("checkout_finished", "synced"),
                    "merchant",
                ],
            },
        ),
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        queryset = with_failed_attempts(super().get_queryset(request))
        return customers.with_customer_shown(queryset, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Payment], search_term: str
    ) -> tuple[QuerySet[Payment], bool]:
        """pay_/pi_/cs_ ids and link titles as Django searches them, and a customer's exact
        e-mail through its keyed hash (nothing is decrypted to search). ``queryset`` is
        already the person's own merchants' payments, so the search stays inside them."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if looks_like_email(term):
            results = results | payments_with_customer_email(term, payments=queryset)
        return results, duplicates

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        failed = obj is not None and bool(obj.failure_code or obj.failure_message)  # type: ignore[attr-defined]
        if failed:
            return self.fieldsets
        # "What went wrong" only where something did.
        (name, options), *rest = self.fieldsets
        fields = [f for f in options["fields"] if f != "failure"]
        return [(name, {**options, "fields": fields}), *rest]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Model | None = None,
    ) -> HttpResponse:
        if isinstance(obj, Payment):
            context["payment_ids"] = [
                ("Payment intent", obj.payment_intent_id, "The pi_… id the customer sees"),
                ("Checkout session", obj.gateway_session_id, ""),
                ("Reference", obj.public_id, ""),
            ]
            details = customer_of(obj)
            until = customers.revealed_until(request, obj)
            context["customer_privacy"] = {
                "masked": details.masked and details.any,
                "revealed_until": _clock(until) if until and customers.shown(obj) else "",
                "may_reveal": self.has_reveal_customer_permission(request, str(obj.pk)),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    @display(description="Payment", ordering="created_at", header=True)
    def reference(self, obj: Payment) -> list[str]:
        details = customer_of(obj)
        return [obj.public_id, details.email or details.name or "No customer details yet"]

    @display(description="Amount", ordering="amount")
    def amount_label(self, obj: Payment) -> str:
        return ui.nowrap(obj.amount_display)

    @display(description="Qty", ordering="quantity")
    def quantity_label(self, obj: Payment) -> str:
        if obj.quantity == 1 and obj.unit_amount is None:
            return "1"
        return ui.nowrap(f"{obj.quantity} × {money.format_money(obj.unit_price, obj.currency)}")

    @display(description="Refunded")
    def refunded_label(self, obj: Payment) -> str:
        done = money.format_money(obj.amount_refunded, obj.currency) if obj.amount_refunded else "—"
        asked = obj.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount"))
        awaiting = (asked["total"] or 0) - obj.amount_refunded
        if awaiting <= 0:
            return done
        # console.js reads the page again while this is shown, until the gateway confirms.
        return format_html(
            '{} <span class="text-base-500" data-paylinks-awaiting>· {} waiting for the '
            "gateway to confirm</span>",
            done,
            money.format_money(awaiting, obj.currency),
        )

    @display(description="Status", ordering="status")
    def status_badge(self, obj: Payment) -> SafeString:
        return _status_html(obj)

    @display(description="Status")
    def status_label(self, obj: Payment) -> SafeString:
        return _status_html(obj)

    @display(description="Method")
    def method(self, obj: Payment) -> str:
        return format_html('<span class="whitespace-nowrap">{}</span>', payment_method(obj))

    @display(description="Link", ordering="link__title")
    def link_title(self, obj: Payment) -> str:
        return ui.truncated(obj.link.title, 240)

    @display(description="Created", ordering="created_at")
    def created(self, obj: Payment) -> str:
        return format_html('<span class="whitespace-nowrap">{}</span>', ui.when(obj.created_at))

    @display(description="Checkout started")
    def started(self, obj: Payment) -> str:
        return ui.when(obj.created_at)

    @display(description="Checkout finished")
    def checkout_finished(self, obj: Payment) -> str:
        return ui.when(obj.session_completed_at)

    @display(description="Paid")
    def paid_at(self, obj: Payment) -> str:
        return ui.when(obj.completed_at)

    @display(description="Last checked with the gateway")
    def synced(self, obj: Payment) -> str:
        return ui.when(obj.last_synced_at)

    @display(description="Link")
    def link_admin(self, obj: Payment) -> str:
        url = reverse("admin:paylinks_paymentlink_change", args=[quote(obj.link_id)])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.link.title)

    @display(description="What went wrong")
    def failure(self, obj: Payment) -> str:
        if not (obj.failure_message or obj.failure_code):
            return "—"
        code = obj.failure_code
        if obj.status != PaymentStatus.FAILED:
            code = getattr(obj, "last_decline_code", "") or code  # the specific decline
        reason = decline_label(code) if code else ""
        prefix = "" if obj.status == PaymentStatus.FAILED else "Last attempt declined: "
        if obj.failure_message and reason:
            return f"{prefix}{obj.failure_message} ({reason})"
        return prefix + (obj.failure_message or reason)

    @display(description="Customer e-mail")
    def customer_email_shown(self, obj: Payment) -> str:
        return customer_of(obj).email or "—"

    @display(description="Customer name")
    def customer_name_shown(self, obj: Payment) -> str:
        return customer_of(obj).name or "—"

    @display(description="Customer phone")
    def customer_phone_shown(self, obj: Payment) -> str:
        return customer_of(obj).phone or "—"

    @display(description="Billing address")
    def billing(self, obj: Payment) -> str:
        return customer_of(obj).address or "—"

    # --- support: reveal one payment's customer --------------------------------------
    def has_reveal_customer_permission(
        self, request: HttpRequest, object_id: str | None = None
    ) -> bool:
        if object_id is None:
            return False
        payment = self.get_object_or_404(request, object_id)
        return (
            permissions.can_reveal_customer(request.user, payment.merchant)
            and customer_of(payment).any
            and not customers.shown(payment)
        )

    @action(description="Reveal customer", icon="visibility", url_path="reveal-customer",
            permissions=["reveal_customer"],
            dialog={"title": "Reveal this payment's customer?",
                    "description": "You see this customer's e-mail, name, phone and address "
                                   "in full for a few minutes, on this payment only. Say why: "
                                   "your reason is recorded in the audit log.",
                    "form_class": RevealForm,
                    "form_submit_text": "Reveal"})  # fmt: skip
    def reveal_customer(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        payment = self.get_object_or_404(request, object_id)
        try:
            until = customer_services.customer_reveal(
                payment=payment, actor=actor(request), reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, f"Nothing was revealed: {text}")
        else:
            customers.remember_reveal(request, payment, until)
            messages.success(request, "Customer revealed. Your reason is in the audit log.")
        return back_to_change_page(request, payment)

    # --- refunds --------------------------------------------------------------------------
    # Unfold passes the object id (a string) to permission checks of detail actions.
    def has_refund_payment_permission(
        self, request: HttpRequest, object_id: str | None = None
    ) -> bool:
        if object_id is None:
            return False
        payment = self.get_object_or_404(request, object_id)
        return (
            permissions.can_write(request.user, payment.merchant)
            and refund_services.refundable_amount(payment) > 0
        )

    @action(description="Refund", icon="undo", url_path="refund",
            permissions=["refund_payment"], variant=ActionVariant.DANGER,
            dialog={"title": "Refund this payment?",
                    "description": "The money goes back to the customer's card or bank "
                                   "account. A refund cannot be undone.",
                    "form_class": RefundForm,
                    "form_submit_text": "Refund"})  # fmt: skip
    def refund_payment(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        payment = self.get_object_or_404(request, object_id)
        data = form.cleaned_data
        try:
            refund = refund_services.refund_create(
                payment=payment,
                actor=actor(request),
                amount=data.get("amount"),
                reason=data["reason"],
                note=data.get("note", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, f"Nothing was refunded: {text}")
        else:
            amount = money.format_money(refund.amount, payment.currency)
            if refund.status == Refund.Status.FAILED:
                messages.error(request, f"The gateway refused the refund of {amount}.")
            else:
                messages.success(
                    request,
                    f"Refund of {amount} sent. The payment's status follows when the "
                    "gateway confirms it.",
                )
        return refresh_in_place(request, payment)
