"""Webhook endpoints and their delivery log in the console.

Owners and managers add, change, rotate, enable/disable, test, resend and replay;
viewers read; support staff read every merchant's endpoints and deliveries and change
nothing. The signing secret is shown once, in the answer to the request that made it
(like an API client's: ``secrets.SecretShownOnce``). Every change goes through
``paylinks.services.webhook_endpoints`` and is audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSplitDateTimeWidget,
    UnfoldAdminTextInputWidget,
)

from paylinks import permissions
from paylinks.models import Delivery, EventType, Merchant, WebhookEndpoint
from paylinks.models.outgoing import SUBSCRIBABLE
from paylinks.services import webhook_endpoints as services
from paylinks.services.webhook_endpoints import IssuedEndpointSecret

from . import display as ui
from .filters import MerchantFilter
from .mixins import MerchantScopedAdmin, ServiceRejected, actor
from .secrets import Credential, SecretPage, SecretShownOnce, confirm_response
from .site import site

STATUS_LABELS = {
    Delivery.Status.SUCCEEDED: "success",
    Delivery.Status.PENDING: "info",
    Delivery.Status.SENDING: "warning",
    Delivery.Status.FAILED: "danger",
}


DELIVERY_LABELS = {Delivery.Status(s).label: c for s, c in STATUS_LABELS.items()}


def event_choices() -> list[tuple[str, str]]:
    return [(value, f"{value} — {EventType(value).label}") for value in SUBSCRIBABLE]


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=event_choices,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text="Only these events are sent to this endpoint.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["merchant", "url", "description"]
        widgets = {
            "url": UnfoldAdminTextInputWidget(attrs={"placeholder": "https://shop.example/hooks"}),
            "description": UnfoldAdminTextInputWidget(attrs={"placeholder": "Order fulfilment"}),
        }
        help_texts = {
            "url": "An https:// address on the public internet. Paylinks POSTs signed JSON to it.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].initial = (
            self.instance.events if self.instance.pk else ["payment.succeeded"]
        )


class ReplayForm(forms.Form):
    since = forms.SplitDateTimeField(
        widget=UnfoldAdminSplitDateTimeWidget,
        help_text="Every event this endpoint subscribes to from then on is sent again.",
    )


@admin.register(WebhookEndpoint, site=site)
class WebhookEndpointAdmin(SecretShownOnce, MerchantScopedAdmin, ModelAdmin):
    form = EndpointForm
    list_display = ["title", "state", "event_list", "deliveries_link", "merchant", "created"]
    list_display_links = ["title"]
    list_filter = ["enabled", MerchantFilter]
    list_select_related = ["merchant"]
    search_fields = ["url", "description"]
    search_help_text = "Search by address or description"
    actions_detail = ["send_test", "rotate_secret", "toggle", "replay", "deliveries"]
    readonly_fields = [
        "state",
        "event_list",
        "rotated",
        "failing",
        "disabled_reason",
        "created",
        "deliveries_link",
        "verify_help",
    ]

    # --- list ---------------------------------------------------------------------------
    @display(description="Endpoint", header=True, ordering="url")
    def title(self, obj: WebhookEndpoint) -> list[str]:
        return [obj.url, obj.description]

    @display(description="Status", label={"Enabled": "success", "Disabled": "danger"})
    def state(self, obj: WebhookEndpoint) -> str:
        return "Enabled" if obj.enabled else "Disabled"

    @display(description="Events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events) or "—"

    @display(description="Deliveries")
    def deliveries_link(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:paylinks_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a class="text-primary-600" href="{}">Delivery log</a>', url)

    @display(description="Created", ordering="created_at")
    def created(self, obj: WebhookEndpoint) -> str:
        return ui.nowrap(ui.when(obj.created_at))

    @display(description="Secret last rotated")
    def rotated(self, obj: WebhookEndpoint) -> str:
        if not obj.secret_rotated_at:
            return "Never"
        text = ui.when(obj.secret_rotated_at)
        overlap = obj.previous_secret_expires_at
        if obj.previous_secret and overlap and overlap > timezone.now():
            text += f"; the previous secret signs too until {ui.when(overlap)}"
        return text

    @display(description="Failing since")
    def failing(self, obj: WebhookEndpoint) -> str:
        return ui.when(obj.failing_since) if obj.failing_since else "—"

    @display(description="Verifying")
    def verify_help(self, obj: WebhookEndpoint) -> str:
        return format_html(
            "Each request carries <code>webhook-id</code>, <code>webhook-timestamp</code> and "
            "<code>webhook-signature</code> (Standard Webhooks). Verify with any Standard "
            "Webhooks library and the secret shown when the endpoint was created or rotated; "
            "de-duplicate by <code>webhook-id</code>. See "
            '<a class="text-primary-600" href="{}">the API documentation</a>.',
            reverse("api:docs"),
        )

    # --- form ---------------------------------------------------------------------------
    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            fields = ["url", "description", "events"]
            if self.sole_merchant(request) is None:
                fields.insert(0, "merchant")
            return [(None, {"fields": fields})]
        editable = self.has_change_permission(request, obj)
        main = ["url", "description", "events"] if editable else ["url", "description"]
        return [
            (None, {"fields": [*main, "verify_help"]}),
            (
                "Status",
                {
                    "fields": [
                        ("state", "failing"),
                        "disabled_reason",
                        ("rotated", "created"),
                        "deliveries_link",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(self.readonly_fields)
        if obj is not None and not self.has_change_permission(request, obj):
            fields += ["url", "description"]
        return fields

    def issuing_merchants(self, request: HttpRequest) -> QuerySet[Merchant]:
        return permissions.writable_merchants(request.user)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            if change:
                saved = services.endpoint_update(
                    endpoint=obj,
                    actor=actor(request),
                    url=data["url"],
                    events=data["events"],
                    description=data.get("description", ""),
                )
            else:
                merchant = data.get("merchant") or self.sole_merchant(request)
                if merchant is None:
                    raise PermissionDenied("Choose the merchant this endpoint is for.")
                issued = services.endpoint_create(
                    merchant=merchant,
                    actor=actor(request),
                    url=data["url"],
                    events=data["events"],
                    description=data.get("description", ""),
                )
                self.remember_issued(request, issued)
                saved = issued.endpoint
        except ValidationError as exc:
            raise ServiceRejected(exc) from exc
        vars(obj).update(vars(saved))

    def secret_page(
        self, request: HttpRequest, issued: IssuedEndpointSecret, *, created: bool
    ) -> SecretPage:
        endpoint = issued.endpoint
        lead = (
            "Your receiver verifies every request with it. If it is lost, rotate the secret "
            "to get a new one."
        )
        if not created and endpoint.previous_secret_expires_at:
            lead += (
                f" Until {ui.when(endpoint.previous_secret_expires_at)} requests are signed "
                "with both the new and the previous secret."
            )
        return SecretPage(
            obj=endpoint,
            title=f"{'Endpoint added' if created else 'New signing secret'}: {endpoint.url}",
            heading="Copy the signing secret now: it is shown only this once"
            if created
            else "The new signing secret, shown only this once",
            lead=lead,
            credentials=[
                Credential("Endpoint", endpoint.url),
                Credential(
                    "Signing secret", issued.secret, "endpoint-secret", "Copy the signing secret"
                ),
                Credential("Events", " ".join(endpoint.events)),
            ],
            usage="Verify a request with any Standard Webhooks library, e.g. in Python:",
            example="from standardwebhooks.webhooks import Webhook\n"
            'payload = Webhook("<secret>").verify(request.body, request.headers)\n'
            '# de-duplicate by request.headers["webhook-id"]: a retry carries the same id',
        )

    # --- detail actions -----------------------------------------------------------------
    def _writable(self, request: HttpRequest, object_id: Any) -> WebhookEndpoint | None:
        if object_id is None:
            return None
        endpoint = self.get_object_or_404(request, object_id)
        return endpoint if self.has_change_permission(request, endpoint) else None

    def has_send_test_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._writable(request, object_id) is not None

    has_rotate_secret_permission = has_send_test_permission
    has_toggle_permission = has_send_test_permission
    has_replay_permission = has_send_test_permission

    def has_deliveries_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return object_id is not None and self.get_object_or_404(request, object_id) is not None

    def _require(self, request: HttpRequest, object_id: str) -> WebhookEndpoint:
        endpoint = self._writable(request, object_id)
        if endpoint is None:
            raise PermissionDenied
        return endpoint

    @action(description="Send test event", icon="send", url_path="send-test",
            permissions=["send_test"])  # fmt: skip
    def send_test(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._require(request, object_id)
        if request.method != "POST":
            return self.confirm_response(
                request,
                endpoint,
                title="Send a test event?",
                body="A signed event of type “test” is sent to this endpoint now; its "
                "delivery appears in the delivery log.",
                button="Send test event",
            )
        event = services.endpoint_send_test(endpoint=endpoint, actor=actor(request))
        messages.success(request, f"Test event {event.public_id} queued for {endpoint.url}.")
        return HttpResponseRedirect(self._log_url(endpoint))

    @action(description="Rotate secret", icon="autorenew", url_path="rotate-secret",
            permissions=["rotate_secret"], variant=ActionVariant.WARNING)  # fmt: skip
    def rotate_secret(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._require(request, object_id)
        if request.method != "POST":
            return self.confirm_response(
                request,
                endpoint,
                title=f"Rotate the signing secret of {endpoint.url}?",
                body="A new secret is made and shown once. For the next 24 hours every "
                "request is signed with both the new and the old secret, so your receiver "
                "keeps verifying while you switch it to the new one.",
                button="Rotate secret",
            )
        issued = services.endpoint_rotate_secret(endpoint=endpoint, actor=actor(request))
        return self.secret_response(request, issued, created=False)

    @action(description="Enable / disable", icon="power_settings_new", url_path="toggle",
            permissions=["toggle"])  # fmt: skip
    def toggle(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._require(request, object_id)
        enable = not endpoint.enabled
        if request.method != "POST":
            return self.confirm_response(
                request,
                endpoint,
                title=f"{'Enable' if enable else 'Disable'} {endpoint.url}?",
                body=(
                    "Deliveries waiting for it are sent again; use “Replay since” for events "
                    "it missed while disabled."
                    if enable
                    else "Nothing is sent to it until it is enabled again. Events are still "
                    "recorded and can be replayed."
                ),
                button="Enable" if enable else "Disable",
            )
        try:
            services.endpoint_set_enabled(endpoint=endpoint, actor=actor(request), enabled=enable)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{endpoint.url} is {'enabled' if enable else 'disabled'}.")
        return HttpResponseRedirect(self.change_url(endpoint))

    @action(description="Replay since…", icon="history", url_path="replay",
            permissions=["replay"])  # fmt: skip
    def replay(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._require(request, object_id)
        form = ReplayForm(
            request.POST or None,
            initial={"since": timezone.localtime() - timedelta(days=1)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                n = services.endpoint_replay(
                    endpoint=endpoint, actor=actor(request), since=form.cleaned_data["since"]
                )
            except ValidationError as exc:
                form.add_error("since", exc.messages)
            else:
                messages.success(request, f"{n} event(s) queued again for {endpoint.url}.")
                return HttpResponseRedirect(self._log_url(endpoint))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Replay events to {endpoint.url}",
            "original": endpoint,
            "form": form,
            "zone": timezone.get_current_timezone_name(),
            "back_url": self.change_url(endpoint),
        }
        return TemplateResponse(request, "console/webhooks/replay.html", context)

    @action(description="Delivery log", icon="list_alt", url_path="deliveries",
            permissions=["deliveries"])  # fmt: skip
    def deliveries(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(self._log_url(self.get_object_or_404(request, object_id)))

    def _log_url(self, endpoint: WebhookEndpoint) -> str:
        return reverse("admin:paylinks_delivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        return super().changelist_view(
            request, {"title": "Webhook endpoints", **(extra_context or {})}
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> Any:
        extra_context = {"title": "New webhook endpoint", **(extra_context or {})}
        return super().add_view(request, form_url, extra_context)


@admin.register(Delivery, site=site)
class DeliveryAdmin(MerchantScopedAdmin, ModelAdmin):
    """The delivery log: read-only, with "Resend" for owners and managers."""

    merchant_path = "endpoint__merchant"
    list_display = [
        "event_label",
        "status_badge",
        "attempts",
        "status_code",
        "latency",
        "last_try",
        "next_retry",
        "endpoint_host",
    ]
    list_display_links = ["event_label"]
    list_filter = ["status", "event__type", "endpoint"]
    list_select_related = ["event", "endpoint", "endpoint__merchant"]
    search_fields = ["=event__public_id", "=event__object_id"]
    search_help_text = "Search: evt_… or pay_… / link id"
    list_per_page = 50
    paginator = InfinitePaginator
    show_full_result_count = False
    actions_row = ["resend_row"]
    actions_detail = ["resend"]
    fields = [
        "event_label",
        "endpoint",
        "status_badge",
        "attempts",
        "status_code",
        "latency",
        "last_try",
        "next_retry",
        "error",
        "response_body",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return super().get_queryset(request).select_related("event", "endpoint")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def _may_resend(self, request: HttpRequest, object_id: Any) -> Delivery | None:
        if object_id is None:
            return None
        row = self.get_object_or_404(request, object_id)
        return row if permissions.can_write(request.user, self.merchant_of(row)) else None

    def has_resend_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._may_resend(request, object_id) is not None

    def has_resend_row_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return permissions.writable_merchants(request.user).exists()

    @action(description="Resend", icon="replay", url_path="resend", permissions=["resend"])
    def resend(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._resend(request, object_id)

    @action(description="Resend", icon="replay", url_path="resend-row",
            permissions=["resend_row"])  # fmt: skip
    def resend_row(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._resend(request, object_id)

    def _resend(self, request: HttpRequest, object_id: str) -> HttpResponse:
        row = self._may_resend(request, object_id)
        if row is None:
            raise PermissionDenied
        if request.method != "POST":
            return confirm_response(
                self,
                request,
                row,
                title=f"Resend {row.event.type} to {row.endpoint.url}?",
                body=f"Event {row.event.public_id} is sent again now, with the same "
                "webhook-id: a receiver that already has it can ignore it.",
                button="Resend",
                back_url=reverse("admin:paylinks_delivery_changelist")
                + f"?endpoint__id__exact={row.endpoint_id}",
            )
        services.delivery_resend(delivery_row=row, actor=actor(request))
        messages.success(request, f"{row.event.public_id} queued again for {row.endpoint.url}.")
        return HttpResponseRedirect(
            reverse("admin:paylinks_delivery_changelist")
            + f"?endpoint__id__exact={row.endpoint_id}"
        )

    @display(description="Event", header=True)
    def event_label(self, obj: Delivery) -> list[str]:
        return [obj.event.type, f"{obj.event.public_id} · {ui.when(obj.event.created_at)}"]

    @display(description="Status", label=DELIVERY_LABELS)
    def status_badge(self, obj: Delivery) -> str:
        return obj.get_status_display()

    @display(description="Latency")
    def latency(self, obj: Delivery) -> str:
        return ui.nowrap(f"{obj.latency_ms} ms") if obj.latency_ms is not None else "—"

    @display(description="Endpoint")
    def endpoint_host(self, obj: Delivery) -> str:
        return ui.truncated(obj.endpoint.url, 220)

    @display(description="Last attempt")
    def last_try(self, obj: Delivery) -> str:
        return ui.nowrap(ui.when(obj.last_attempt_at)) if obj.last_attempt_at else "—"

    @display(description="Next retry")
    def next_retry(self, obj: Delivery) -> str:
        if obj.status != Delivery.Status.PENDING or obj.next_attempt_at is None:
            return "—"
        return ui.nowrap(ui.when(obj.next_attempt_at))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        title = "Webhook deliveries"
        endpoint_id = request.GET.get("endpoint__id__exact", "")
        if endpoint_id.isdigit():
            endpoint = (
                WebhookEndpoint.objects.filter(
                    pk=int(endpoint_id),
                    merchant__in=permissions.visible_merchants(request.user),
                )
                .only("url")
                .first()
            )
            if endpoint is None:
                raise Http404("There is no webhook endpoint here.")
            title = f"Deliveries to {endpoint.url}"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})
