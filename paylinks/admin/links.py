from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.forms import BaseDialogForm
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from dashboards import selectors as analytics
from paylinks import money, permissions
from paylinks.forms import PaymentLinkForm
from paylinks.labels import price_label, price_parts
from paylinks.models import LinkState, Merchant, PaymentLink
from paylinks.models.links import QUANTITY_CEILING
from paylinks.qr import qr_svg
from paylinks.selectors.links import link_state, units_sold, with_state
from paylinks.services import links as link_services

from . import display as ui
from . import exports
from .filters import CurrencyFilter, DayRangeFilter, MerchantFilter, PriceTypeFilter, StateFilter
from .mixins import MerchantScopedAdmin, ServiceRejected, actor, back_to_change_page
from .site import site


def state_note(link: PaymentLink, state: LinkState) -> str:
    """What a customer who opens the link meets, when it is not taking payments."""
    if state == LinkState.INACTIVE:
        return f"Customers who open it see: “{link.effective_inactive_message}”"
    if state == LinkState.EXPIRED:
        return "It expired: set a later expiry date to take payments again."
    if state == LinkState.SOLD_OUT:
        if link.quantity_enabled:
            return "All its units are sold: raise the limit to sell more."
        return "Its payment limit is reached: raise the limit to take more payments."
    return ""


def units_sold_label(link: PaymentLink) -> str:
    """How many units a link with a quantity sold ("12 of 40 units sold, 28 left")."""
    if not link.quantity_enabled:
        return ""
    sold = units_sold(link)
    if link.payment_limit is not None:
        left = max(0, link.payment_limit - sold)
        return f"{sold} of {link.payment_limit} units sold, {left} left"
    return f"{sold} unit{'s' if sold != 1 else ''} sold"


def link_funnel_context(request: HttpRequest, link: PaymentLink) -> dict[str, Any]:
    """The link's funnel since it was created (in its merchant's days): page views ->
    checkouts started -> paid, conversion and revenue per currency."""
    zone = link.merchant.timezone
    today = analytics.local_today(zone)
    first = min(timezone.localtime(link.created_at, ZoneInfo(zone)).date(), today)
    period = analytics.Period(first, today)
    funnel = analytics.link_funnel(
        merchants=permissions.visible_merchants(request.user), link=link, period=period
    )

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f} %"

    return {
        "since": f"{first.day} {first:%b %Y}",
        "zone": zone,
        "views": funnel.views,
        "started": funnel.started,
        "paid": funnel.paid,
        "checkout_rate": rate(funnel.checkout_rate),
        "completion": rate(funnel.completion),
        "conversion": rate(funnel.conversion),
        "revenue": [
            {
                "currency": r.currency,
                "gross": money.format_money(r.gross, r.currency),
                "net": money.format_money(r.net, r.currency),
            }
            for r in funnel.revenue
        ],
        "analytics_url": reverse("analytics:index") + f"?period=12m&link={link.pk}",
    }


def currency_hints() -> dict[str, dict[str, str]]:
    """What to type for each currency, for the form's live hints."""
    hints = {}
    for code, currency in money.CURRENCIES.items():
        if currency.places == 0:
            shape = "whole numbers, no decimals"
        else:
            shape = f"up to {currency.places} decimals"
        if currency.step > 1 and currency.places:
            shape += f", in steps of {money.format_major(currency.step, code)}"
        hints[code] = {
            "example": money.example(currency),
            "hint": (
                f"{code} ({currency.name}): {shape}. Smallest "
                f"{money.format_money(currency.minimum, code)}, largest "
                f"{money.format_money(money.maximum_minor(code), code)}."
            ),
        }
    return hints


class MoneyInput(UnfoldAdminTextInputWidget):
    """A text box for an amount in major units, labelled with the chosen currency."""

    template_name = "console/widgets/money_input.html"

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "inputmode": "decimal",
                "autocomplete": "off",
                "class": "pr-16",
                "x-bind:placeholder": "paylinksMoney(currency).example",
            }
        )


class CurrencySelect(UnfoldAdminSelectWidget):
    """The currency select, followed by a live hint on how to type amounts in it."""

    template_name = "console/widgets/currency_select.html"


class ConsoleLinkForm(PaymentLinkForm):
    """The service's form, dressed for the console: labels and hints in merchant words."""

    amount = forms.CharField(
        required=False,
        label="Price",
        widget=MoneyInput(),
        help_text="As the customer reads it (12.50, not 1250 cents).",
    )
    custom_amount_min = forms.CharField(required=False, label="Minimum", widget=MoneyInput())
    custom_amount_max = forms.CharField(required=False, label="Maximum", widget=MoneyInput())
    custom_amount_preset = forms.CharField(
        required=False,
        label="Suggested amount",
        widget=MoneyInput(),
        help_text="Pre-filled on the payment page; the customer can change it.",
    )
    quantity_min = forms.IntegerField(
        required=False,
        min_value=1,
        initial=1,
        label="Minimum quantity",
        widget=UnfoldAdminIntegerFieldWidget(),
        help_text="Empty: 1.",
    )
    metadata = forms.JSONField(
        required=False,
        initial=dict,
        label="Metadata",
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3, "class": "font-mono"}),
        help_text='Key–value pairs for your own systems, e.g. {"order": "A-1001"}. '
        "Never shown to customers.",
        error_messages={"invalid": 'Write metadata as {"key": "value"} pairs.'},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("description", "confirmation_message", "inactive_message"):
            if name in self.fields:
                self.fields[name].widget.attrs["rows"] = 3
        if "currency" in self.fields:
            currency = self.fields["currency"]
            currency.error_messages["invalid_choice"] = "Choose one of the currencies in the list."
            currency.widget = CurrencySelect(choices=currency.widget.choices)
        if "expires_at" in self.fields:
            zone = timezone.get_current_timezone_name()
            self.fields[
                "expires_at"
            ].help_text = (
                f"Optional. In {zone} time. After this moment the link stops taking money."
            )
        labels = {
            "title": ("Title", "What the customer pays for: the heading of the payment page."),
            "description": ("Description", "Optional. Shown under the title."),
            "image": (
                "Product image",
                "Optional. Shown on the payment page and the hosted checkout. "
                "PNG, JPEG or WebP, at most 2 MB; a square or portrait image of at least "
                "600 px looks best.",
            ),
            "amount_type": ("Price type", None),
            "expires_at": ("Expires", None),
            "payment_limit": (
                "Payment limit",
                "Optional. Stop after this many paid payments (with a quantity: after this "
                "many units are sold, such as your stock).",
            ),
            "quantity_enabled": (
                "Customers choose a quantity",
                "They buy one or more at the price; the total is the price times the quantity.",
            ),
            "quantity_min": ("Minimum quantity", None),
            "quantity_max": (
                "Maximum quantity",
                f"Optional. At most {QUANTITY_CEILING} per payment.",
            ),
            "after_payment": ("After paying, customers", None),
            "confirmation_message": (
                "Confirmation message",
                "Shown with the amount and payment reference. Empty: a standard thank-you.",
            ),
            "redirect_url": ("Redirect to", "Must start with https:// (or http://)."),
            "inactive_message": (
                "Message while inactive",
                "Shown if you deactivate the link. Empty: your merchant's standard message.",
            ),
        }
        for name, (label, help_text) in labels.items():
            if name in self.fields:
                self.fields[name].label = label
                if help_text is not None:
                    self.fields[name].help_text = help_text
        if "redirect_url" in self.fields:
            self.fields["redirect_url"].widget.attrs["placeholder"] = "https://example.com/thanks"


class DeactivateForm(BaseDialogForm):
    message = forms.CharField(
        label="Message for customers",
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Optional. Leave empty to keep the link's current message.",
    )


PRICE_FIELDS = [
    "currency",
    "amount_type",
    "amount",
    ("custom_amount_min", "custom_amount_max"),
    "custom_amount_preset",
    "quantity_enabled",
    ("quantity_min", "quantity_max"),
]

# In a read-only view, amounts are shown formatted with their currency, not in minor units.
READONLY_SWAPS = {
    "amount": "amount_display",
    "custom_amount_min": "min_display",
    "custom_amount_max": "max_display",
    "custom_amount_preset": "preset_display",
    "metadata": "metadata_display",
}


def _state_of(link: PaymentLink) -> str:
    return str(getattr(link, "state", "") or link_state(link).value)


LINK_COLUMNS = [
    exports.Column("id", lambda link: link.pk),
    exports.Column("merchant", lambda link: link.merchant.name),
    exports.Column("title", lambda link: link.title),
    exports.Column("public_url", lambda link: link.public_url),
    exports.Column("state", _state_of),
    exports.Column("currency", lambda link: link.currency),
    exports.Column("price_type", lambda link: link.amount_type),
    exports.Column("amount_minor", lambda link: exports.minor(link.amount)),
    exports.Column("amount", lambda link: exports.major(link.amount, link.currency)),
    exports.Column("minimum_minor", lambda link: exports.minor(link.custom_amount_min)),
    exports.Column("minimum", lambda link: exports.major(link.custom_amount_min, link.currency)),
    exports.Column("maximum_minor", lambda link: exports.minor(link.custom_amount_max)),
    exports.Column("maximum", lambda link: exports.major(link.custom_amount_max, link.currency)),
    exports.Column("paid_payments", lambda link: getattr(link, "completed_count", "")),
    exports.Column("quantity", lambda link: "yes" if link.quantity_enabled else "no"),
    exports.Column("payment_limit", lambda link: link.payment_limit or ""),
    exports.Column("expires_at", lambda link: exports.when(link.expires_at)),
    exports.Column("created_at", lambda link: exports.when(link.created_at)),
]


@admin.register(PaymentLink, site=site)
class PaymentLinkAdmin(exports.CsvExports, MerchantScopedAdmin, ModelAdmin):
    form = ConsoleLinkForm
    list_display = [
        "title_header",
        "merchant",
        "price",
        "state_badge",
        "completed",
        "expires",
        "created",
        "share",
    ]
    list_display_links = ["title_header"]
    list_filter = [
        StateFilter,
        MerchantFilter,
        CurrencyFilter,
        ("amount_type", PriceTypeFilter),
        ("created_at", DayRangeFilter.titled("created")),
    ]
    list_filter_submit = True
    list_per_page = 50
    search_fields = ["title", "description", "slug"]
    search_help_text = "Search by title, description or the link's code"
    list_select_related = ["merchant"]
    readonly_fields = ["slug", "created_at", "updated_at"]
    radio_fields = {"amount_type": admin.HORIZONTAL, "after_payment": admin.VERTICAL}
    conditional_fields = {
        "amount": "amount_type == 'fixed'",
        "custom_amount_min": "amount_type == 'customer'",
        "custom_amount_max": "amount_type == 'customer'",
        "custom_amount_preset": "amount_type == 'customer'",
        "quantity_enabled": "amount_type == 'fixed'",
        "quantity_min": "amount_type == 'fixed' && quantity_enabled",
        "quantity_max": "amount_type == 'fixed' && quantity_enabled",
        "confirmation_message": "after_payment == 'message'",
        "redirect_url": "after_payment == 'redirect'",
    }
    change_form_before_template = "console/links/share_panel.html"
    actions = ["activate_links", "deactivate_links", "export_selected"]
    actions_list = ["export_csv"]
    csv_columns, csv_name = LINK_COLUMNS, "payment-links"
    actions_row = ["copy_link_row", "download_qr_row", "open_page_row"]
    actions_detail = ["activate_link", "deactivate_link", "download_qr_detail"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaymentLink]:
        return with_state(super().get_queryset(request))

    # --- list ---------------------------------------------------------------------------
    @display(description="Link", header=True, ordering="title")
    def title_header(self, obj: PaymentLink) -> list[str]:
        subtitle = obj.description.splitlines()[0][:70] if obj.description else ""
        return [obj.title, subtitle]

    @display(description="Price", header=True)
    def price(self, obj: PaymentLink) -> list[str]:
        amount, kind = price_parts(obj)
        return [ui.nowrap(amount), kind]

    @display(description="Expires", ordering="expires_at")
    def expires(self, obj: PaymentLink) -> str:
        return ui.nowrap(ui.when(obj.expires_at)) if obj.expires_at else "Never"

    @display(description="Created", ordering="created_at")
    def created(self, obj: PaymentLink) -> str:
        return ui.nowrap(ui.day(obj.created_at))

    @display(description="State", label=ui.LINK_STATE_VARIANTS, ordering="state")
    def state_badge(self, obj: PaymentLink) -> tuple[str, str]:
        state = link_state(obj, timezone.now())
        return state, state.label

    @display(description="Paid", ordering="completed_count")
    def completed(self, obj: PaymentLink) -> str:
        count = getattr(obj, "completed_count", 0)
        units = " units" if obj.quantity_enabled else ""
        if obj.payment_limit:
            return ui.nowrap(f"{count} of {obj.payment_limit}{units}")
        return ui.nowrap(f"{count}{units}")

    @display(description="Share")
    def share(self, obj: PaymentLink) -> str:
        return format_html(
            '<button type="button" class="paylinks-copy" data-copy="{}" '
            'title="Copy the payment link" aria-label="Copy the payment link for {}">'
            '<span class="material-symbols-outlined">content_copy</span>'
            '<span class="paylinks-copy-label">Copy link</span></button>',
            obj.public_url,
            obj.title,
        )

    # --- read-only displays (viewers, support staff) -----------------------------------
    @display(description="Price")
    def amount_display(self, obj: PaymentLink) -> str:
        return self._money(obj, obj.amount)

    @display(description="Minimum")
    def min_display(self, obj: PaymentLink) -> str:
        return self._money(obj, obj.custom_amount_min)

    @display(description="Maximum")
    def max_display(self, obj: PaymentLink) -> str:
        return self._money(obj, obj.custom_amount_max)

    @display(description="Suggested amount")
    def preset_display(self, obj: PaymentLink) -> str:
        return self._money(obj, obj.custom_amount_preset)

    @display(description="Metadata")
    def metadata_display(self, obj: PaymentLink) -> str:
        if not obj.metadata:
            return "—"
        return "; ".join(f"{key}: {value}" for key, value in sorted(obj.metadata.items()))

    @staticmethod
    def _money(obj: PaymentLink, value: int | None) -> str:
        return "—" if value is None else money.format_money(value, obj.currency)

    # --- form -------------------------------------------------------------------------------
    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (
                "What the customer pays for",
                {"fields": ["merchant", "title", "description", "image"]},
            ),
            ("Price", {"fields": PRICE_FIELDS}),
            ("Limits", {"fields": [("expires_at", "payment_limit")]}),
            (
                "After payment",
                {"fields": ["after_payment", "confirmation_message", "redirect_url"]},
            ),
            (
                "Customer details to collect",
                {
                    "fields": ["collect_name", "collect_phone", "collect_billing_address"],
                    "description": "The e-mail address is always collected.",
                },
            ),
            ("When the link is inactive", {"fields": ["inactive_message"]}),
            ("Metadata", {"fields": ["metadata"]}),
        ]
        if obj is None and self._only_writable_merchant(request) is not None:
            first = fieldsets[0][1]
            first["fields"] = [f for f in first["fields"] if f != "merchant"]
        if obj is not None:
            fieldsets.append(("Record", {"fields": [("slug", "created_at", "updated_at")]}))
            if not self.has_change_permission(request, obj):
                fieldsets = [(name, _swap_readonly(opts)) for name, opts in fieldsets]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # a link stays with the merchant it was made for
            fields.append("merchant")
        return fields

    def _only_writable_merchant(self, request: HttpRequest) -> Merchant | None:
        writable = list(permissions.writable_merchants(request.user)[:2])
        return writable[0] if len(writable) == 1 else None

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        writable = list(permissions.writable_merchants(request.user)[:2])
        if len(writable) == 1:
            initial.setdefault("merchant", writable[0].pk)
            initial.setdefault("currency", writable[0].default_currency)
        return initial

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "merchant" and formfield is not None:
            # Merchants are created by the platform, not from a link's form.
            formfield.widget = getattr(formfield.widget, "widget", formfield.widget)
        return formfield

    def save_model(self, request: HttpRequest, obj: PaymentLink, form: Any, change: bool) -> None:
        values = {
            f: form.cleaned_data.get(f)
            for f in link_services.UPDATABLE_FIELDS
            if f in form.cleaned_data
        }
        try:
            if change:
                saved = link_services.payment_link_update(link=obj, actor=actor(request), **values)
            else:
                merchant = form.cleaned_data.get("merchant") or self._only_writable_merchant(
                    request
                )
                if merchant is None:
                    raise PermissionDenied("Choose the merchant this link is for.")
                saved = link_services.payment_link_create(
                    merchant=merchant, actor=actor(request), **values
                )
        except ValidationError as exc:
            raise ServiceRejected(exc) from exc
        vars(obj).update(vars(saved))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Model | None = None,
    ) -> HttpResponse:
        context["currency_hints"] = currency_hints()
        context["show_save_and_add_another"] = False
        if obj is not None:
            state = link_state(obj)  # type: ignore[arg-type]
            context["share"] = {
                "url": obj.public_url,  # type: ignore[attr-defined]
                "qr_url": reverse("admin:paylinks_paymentlink_qr", args=[quote(obj.pk)]),
                "qr_download_url": reverse(
                    "admin:paylinks_paymentlink_download_qr_detail", args=[quote(obj.pk)]
                ),
                "state": state,
                "variant": ui.LINK_STATE_VARIANTS[state],
                "price": price_label(obj),  # type: ignore[arg-type]
                "open_attrs": {"target": "_blank", "rel": "noopener"},
                "note": state_note(obj, state),  # type: ignore[arg-type]
                "sold": units_sold_label(obj),  # type: ignore[arg-type]
            }
            context["funnel"] = link_funnel_context(request, obj)  # type: ignore[arg-type]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(self, request: HttpRequest, obj: Model, post_url_continue: Any = None) -> Any:
        """A new link lands on its share card (address, copy button, QR code): sharing it
        is what comes next, not the list."""
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request,
            f"“{obj}” is ready: copy its address or download the QR code to share it.",
        )
        # The share card is the top of the link's page, under this message.
        return HttpResponseRedirect(
            reverse("admin:paylinks_paymentlink_change", args=[quote(obj.pk)])
        )

    # --- sharing: QR code, copy, open ---------------------------------------------------
    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/qr.svg",
                self.admin_site.admin_view(self.qr_view),
                name="paylinks_paymentlink_qr",
            ),
            *super().get_urls(),
        ]

    def qr_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._qr_response(request, object_id, download=False)

    def _qr_response(self, request: HttpRequest, object_id: str, *, download: bool) -> HttpResponse:
        link = self.get_object_or_404(request, object_id)
        response = HttpResponse(qr_svg(link.public_url), content_type="image/svg+xml")
        name = f"paylinks-{slugify(link.title)[:40] or 'link'}-qr.svg"
        disposition = "attachment" if download else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{name}"'
        response["Cache-Control"] = "private, max-age=300"
        return response

    @action(description="Copy link", icon="content_copy", url_path="copy-link",
            permissions=["view_link"], attrs={"data-copy-fetch": "true"})  # fmt: skip
    def copy_link_row(self, request: HttpRequest, object_id: str) -> HttpResponse:
        link = self.get_object_or_404(request, object_id)
        return HttpResponse(link.public_url, content_type="text/plain; charset=utf-8")

    @action(description="Download QR code", icon="qr_code_2", url_path="qr/download",
            permissions=["view_link"])  # fmt: skip
    def download_qr_row(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._qr_response(request, object_id, download=True)

    @action(description="Download QR code", icon="qr_code_2", url_path="qr/save",
            permissions=["view_link"])  # fmt: skip
    def download_qr_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._qr_response(request, object_id, download=True)

    @action(description="Open payment page", icon="open_in_new", url_path="open",
            permissions=["view_link"], attrs={"target": "_blank", "rel": "noopener"})  # fmt: skip
    def open_page_row(self, request: HttpRequest, object_id: str) -> HttpResponse:
        link = self.get_object_or_404(request, object_id)
        return HttpResponseRedirect(link.public_url)

    # --- activate / deactivate ------------------------------------------------------------
    # Unfold passes the object id (a string) to permission checks of detail actions.
    def has_view_link_permission(self, request: HttpRequest, object_id: str | None = None) -> bool:
        if object_id is None:
            return self.has_view_permission(request)
        return self.has_view_permission(request, self.get_object_or_404(request, object_id))

    def has_activate_link_permission(
        self, request: HttpRequest, object_id: str | None = None
    ) -> bool:
        link = self._writable_link(request, object_id)
        return link is not None and not link.is_active

    def has_deactivate_link_permission(
        self, request: HttpRequest, object_id: str | None = None
    ) -> bool:
        link = self._writable_link(request, object_id)
        return link is not None and link.is_active

    def _writable_link(self, request: HttpRequest, object_id: str | None) -> PaymentLink | None:
        if object_id is None:
            return None
        link = self.get_object_or_404(request, object_id)
        return link if permissions.can_write(request.user, link.merchant) else None

    @action(description="Activate", icon="play_circle", url_path="activate",
            permissions=["activate_link"], variant=ActionVariant.SUCCESS,
            dialog={"title": "Activate this link?",
                    "description": "Customers can pay with it again straight away.",
                    "form_submit_text": "Activate link"})  # fmt: skip
    def activate_link(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        link = self.get_object_or_404(request, object_id)
        link_services.payment_link_activate(link=link, actor=actor(request))
        messages.success(request, f"“{link.title}” is active again.")
        return back_to_change_page(request, link)

    @action(description="Deactivate", icon="pause_circle", url_path="deactivate",
            permissions=["deactivate_link"], variant=ActionVariant.DANGER,
            dialog={"title": "Deactivate this link?",
                    "description": "Customers who open it see your message instead of a "
                                   "payment form. You can activate it again at any time.",
                    "form_class": DeactivateForm,
                    "form_submit_text": "Deactivate link"})  # fmt: skip
    def deactivate_link(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        link = self.get_object_or_404(request, object_id)
        message = form.cleaned_data.get("message") or None
        link_services.payment_link_deactivate(link=link, actor=actor(request), message=message)
        messages.success(request, f"“{link.title}” no longer accepts payments.")
        return back_to_change_page(request, link)

    @action(description="Activate selected links", permissions=["change"])
    def activate_links(self, request: HttpRequest, queryset: QuerySet[PaymentLink]) -> None:
        self._bulk(request, queryset, link_services.payment_link_activate, "activated")

    @action(description="Deactivate selected links", permissions=["change"])
    def deactivate_links(self, request: HttpRequest, queryset: QuerySet[PaymentLink]) -> None:
        self._bulk(request, queryset, link_services.payment_link_deactivate, "deactivated")

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet[PaymentLink], service: Any, verb: str
    ) -> None:
        done = refused = 0
        for link in queryset:
            try:
                service(link=link, actor=actor(request))
                done += 1
            except PermissionDenied:
                refused += 1
        if done:
            messages.success(request, f"{_links(done)} {verb}.")
        if refused:
            messages.warning(request, f"{_links(refused)} skipped: you can only view them.")


def _links(count: int) -> str:
    return "1 link" if count == 1 else f"{count} links"


def _swap_readonly(options: dict[str, Any]) -> dict[str, Any]:
    def swap(field: Any) -> Any:
        if isinstance(field, tuple | list):
            return tuple(swap(f) for f in field)
        return READONLY_SWAPS.get(field, field)

    return {**options, "fields": [swap(f) for f in options["fields"]]}
