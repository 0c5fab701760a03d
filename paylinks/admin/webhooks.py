"""The webhook inbox, for the people who run the platform.

Events arrive for the whole installation (one gateway account), not for one merchant, so
only superusers and support staff see the inbox; support staff read it, superusers may
also process an event again ("reprocess"), e.g. after fixing what made it fail; each
reprocessing is written to the audit log.

Events carry customers' personal details (e-mail, name, phone, address). The inbox is
not any merchant's, so nobody here sees them in full: the payload is shown with those
values masked (``paylinks.privacy.mask_payload``). A customer is looked at on the
payment's page, where support's reveal is per payment and audited.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from paylinks import permissions
from paylinks.models import WebhookEvent
from paylinks.privacy import mask_payload
from paylinks.webhooks import inbox

from . import display as ui
from .mixins import ConsoleAdmin, actor, back_to_change_page
from .site import site

STATUS_LABELS: dict[str, str] = {
    WebhookEvent.Status.PROCESSED: "success",
    WebhookEvent.Status.IGNORED: "default",
    WebhookEvent.Status.PENDING: "info",
    WebhookEvent.Status.FAILED: "danger",
}


def may_reprocess(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


@admin.register(WebhookEvent, site=site)
class WebhookEventAdmin(ConsoleAdmin, ModelAdmin):
    list_display = ["event", "status_badge", "attempts", "received", "processed"]
    list_display_links = ["event"]
    list_filter = ["status", "type", "gateway"]
    search_fields = ["=event_id", "=object_id", "type"]
    search_help_text = "Search: evt_…, cs_…, ch_… or event type"
    list_per_page = 50
    paginator = InfinitePaginator
    show_full_result_count = False
    actions = ["reprocess_selected"]
    actions_detail = ["reprocess_event"]
    fieldsets = [
        (
            "Event",
            {
                "fields": [
                    ("event_id", "type"),
                    ("gateway", "object_id"),
                    ("status_label", "attempts"),
                    ("received", "processed"),
                    "next_attempt",
                    "error",
                ]
            },
        ),
        ("Payload", {"classes": ["collapse"], "fields": ["payload_pretty"]}),
    ]
    readonly_fields = [
        "event_id",
        "type",
        "gateway",
        "object_id",
        "status_label",
        "attempts",
        "received",
        "processed",
        "next_attempt",
        "error",
        "payload_pretty",
    ]

    # --- who sees it ------------------------------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.sees_all_merchants(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return permissions.sees_all_merchants(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        queryset = super().get_queryset(request)
        return queryset if permissions.sees_all_merchants(request.user) else queryset.none()

    # --- columns ----------------------------------------------------------------------
    @display(description="Event", header=True, ordering="received_at")
    def event(self, obj: WebhookEvent) -> list[str]:
        return [obj.type, obj.event_id]

    @display(description="Status", label=STATUS_LABELS, ordering="status")
    def status_badge(self, obj: WebhookEvent) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Status")
    def status_label(self, obj: WebhookEvent) -> str:
        return ui.badge(obj.get_status_display(), STATUS_LABELS.get(obj.status, "default"))

    @display(description="Received", ordering="received_at")
    def received(self, obj: WebhookEvent) -> str:
        return ui.nowrap(ui.when(obj.received_at))

    @display(description="Processed", ordering="processed_at")
    def processed(self, obj: WebhookEvent) -> str:
        return ui.nowrap(ui.when(obj.processed_at))

    @display(description="Next attempt")
    def next_attempt(self, obj: WebhookEvent) -> str:
        if obj.status not in (WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED):
            return "—"
        return ui.when(obj.next_attempt_at) if obj.next_attempt_at else "As soon as possible"

    @display(description="Last error")
    def error(self, obj: WebhookEvent) -> str:
        if not obj.last_error:
            return "—"
        return format_html(
            '<pre class="whitespace-pre-wrap text-xs">{}</pre>', mask_payload(obj.last_error)
        )

    @display(description="Payload (customer details masked)")
    def payload_pretty(self, obj: WebhookEvent) -> str:
        text = json.dumps(mask_payload(obj.payload), indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="whitespace-pre-wrap text-xs">{}</pre>', text)

    # --- reprocess --------------------------------------------------------------------
    def has_reprocess_permission(self, request: HttpRequest, object_id: str | None = None) -> bool:
        return may_reprocess(request.user)

    @action(description="Reprocess", icon="replay", url_path="reprocess",
            permissions=["reprocess"],
            dialog={"title": "Process this event again?",
                    "description": "Paylinks re-reads the payment from the gateway and "
                                   "applies what it finds. Safe to repeat: a payment only "
                                   "ever moves forward.",
                    "form_submit_text": "Reprocess"})  # fmt: skip
    def reprocess_event(self, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
        event = self.get_object_or_404(request, object_id)
        self._report(request, event, inbox.reprocess(event.pk, actor=actor(request)))
        return back_to_change_page(request, event)

    @action(description="Reprocess selected events", permissions=["reprocess"])
    def reprocess_selected(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        if not may_reprocess(request.user):
            raise PermissionDenied
        for event in queryset[:100]:
            self._report(request, event, inbox.reprocess(event.pk, actor=actor(request)))

    @staticmethod
    def _report(request: HttpRequest, event: WebhookEvent, outcome: str) -> None:
        level = messages.ERROR if outcome.startswith("failed") else messages.SUCCESS
        messages.add_message(request, level, f"{event.type} {event.event_id}: {outcome}")
