"""Webhook endpoints: created, changed, rotated, enabled and disabled by owners and
managers, tested, resent and replayed. Every change is audited; the URL passes the SSRF
guard (``paylinks.notifications.ssrf``) on every save.

The signing secret is generated here and shown once, in the answer to the request that
made it (like an API client's secret); it is stored encrypted, because Paylinks needs it
to sign. Rotating keeps the previous secret signing beside the new one for an overlap
(``ROTATION_OVERLAP``, or what the person chose), so a receiver can switch without
dropping a delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from paylinks import permissions
from paylinks.models import (
    Delivery,
    Merchant,
    OutgoingEvent,
    User,
    WebhookEndpoint,
)
from paylinks.models.outgoing import SUBSCRIBABLE, new_signing_secret
from paylinks.notifications import delivery, outbox, ssrf

from .audit import audit_record, diff

ROTATION_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
REPLAY_MAX = 10_000


@dataclass(frozen=True)
class IssuedEndpointSecret:
    endpoint: WebhookEndpoint
    secret: str


def _require_write(actor: User, merchant: Merchant) -> None:
    if not permissions.can_write(actor, merchant):
        raise PermissionDenied("Only the merchant's owners and managers manage its webhooks.")


def _clean(url: str, events: Iterable[str], description: str) -> tuple[str, list[str], str]:
    url = (url or "").strip()
    if len(url) > 2000:
        raise ValidationError({"url": "A web address has at most 2000 characters."})
    try:
        ssrf.check_url(url)
    except ssrf.UnsafeURL as exc:
        raise ValidationError({"url": str(exc)}) from None
    chosen = [e for e in SUBSCRIBABLE if e in set(events)]
    unknown = set(events) - set(SUBSCRIBABLE)
    if unknown:
        raise ValidationError({"events": f"Unknown event type(s): {', '.join(sorted(unknown))}."})
    if not chosen:
        raise ValidationError({"events": "Choose at least one event to send."})
    return url, chosen, (description or "").strip()[:200]


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
    }


@transaction.atomic
def endpoint_create(
    *, merchant: Merchant, actor: User, url: str, events: Iterable[str], description: str = ""
) -> IssuedEndpointSecret:
    _require_write(actor, merchant)
    url, chosen, description = _clean(url, list(events), description)
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant,
        url=url,
        events=chosen,
        description=description,
        secret=new_signing_secret(),
        created_by=actor if actor.pk else None,
    )
    audit_record(
        actor=actor,
        action="webhook_endpoint.created",
        obj=endpoint,
        merchant=merchant,
        changes=diff({}, _snapshot(endpoint)),
    )
    return IssuedEndpointSecret(endpoint, endpoint.secret)


def _locked(endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    locked = (
        WebhookEndpoint.objects.select_for_update().select_related("merchant").get(pk=endpoint.pk)
    )
    _require_write(actor, locked.merchant)
    return locked


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: User,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    endpoint = _locked(endpoint, actor)
    before = _snapshot(endpoint)
    endpoint.url, endpoint.events, endpoint.description = _clean(url, list(events), description)
    endpoint.save()
    if changed := diff(before, _snapshot(endpoint)):
        audit_record(
            actor=actor,
            action="webhook_endpoint.updated",
            obj=endpoint,
            merchant=endpoint.merchant,
            changes=changed,
        )
    return endpoint


@transaction.atomic
def endpoint_set_enabled(
    *, endpoint: WebhookEndpoint, actor: User, enabled: bool
) -> WebhookEndpoint:
    endpoint = _locked(endpoint, actor)
    if endpoint.enabled == enabled:
        return endpoint
    if enabled:
        ssrf_problem = _url_problem(endpoint.url)
        if ssrf_problem:
            raise ValidationError(ssrf_problem)
    endpoint.enabled = enabled
    endpoint.disabled_reason = "" if enabled else f"Disabled by {actor.email}."
    endpoint.failing_since = None
    endpoint.save()
    audit_record(
        actor=actor,
        action="webhook_endpoint.enabled" if enabled else "webhook_endpoint.disabled",
        obj=endpoint,
        merchant=endpoint.merchant,
        changes={"enabled": [not enabled, enabled]},
    )
    if enabled:
        delivery.wake()
    return endpoint


def _url_problem(url: str) -> str | None:
    try:
        ssrf.check_url(url)
    except ssrf.UnsafeURL as exc:
        return str(exc)
    return None


@transaction.atomic
def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User, overlap: timedelta = ROTATION_OVERLAP
) -> IssuedEndpointSecret:
    """A new secret now; the old one keeps signing (beside it) for ``overlap``."""
    endpoint = _locked(endpoint, actor)
    overlap = max(timedelta(0), min(overlap, MAX_OVERLAP))
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret if overlap else ""
    endpoint.previous_secret_expires_at = now + overlap if overlap else None
    endpoint.secret = new_signing_secret()
    endpoint.secret_rotated_at = now
    endpoint.save()
    audit_record(
        actor=actor,
        action="webhook_endpoint.secret_rotated",
        obj=endpoint,
        merchant=endpoint.merchant,
        changes={"overlap_hours": [None, round(overlap.total_seconds() / 3600, 2)]},
    )
    return IssuedEndpointSecret(endpoint, endpoint.secret)


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint, actor: User) -> OutgoingEvent:
    endpoint = _locked(endpoint, actor)
    event = outbox.test_event(endpoint)
    audit_record(
        actor=actor,
        action="webhook_endpoint.test_sent",
        obj=endpoint,
        merchant=endpoint.merchant,
        changes={"event": [None, event.public_id]},
    )
    return event


@transaction.atomic
def delivery_resend(*, delivery_row: Delivery, actor: User) -> None:
    endpoint = _locked(delivery_row.endpoint, actor)
    delivery.resend(delivery_row)
    audit_record(
        actor=actor,
        action="webhook_endpoint.delivery_resent",
        obj=endpoint,
        merchant=endpoint.merchant,
        changes={"event": [None, delivery_row.event.public_id]},
    )


@transaction.atomic
def endpoint_replay(*, endpoint: WebhookEndpoint, actor: User, since: datetime) -> int:
    """Send again every event the endpoint subscribes to since ``since``: events it never
    got a delivery for (created while it was disabled or not subscribed) are added, the
    others queued again. Returns how many are queued."""
    endpoint = _locked(endpoint, actor)
    if since > timezone.now():
        raise ValidationError({"since": "Choose a moment in the past."})
    # Locked: the sweeper's retention (outbox.prune_finished) skips events held here, and
    # an event it deleted a moment ago is not in the list, so no delivery is added to one.
    events = list(
        OutgoingEvent.objects.filter(
            merchant=endpoint.merchant, created_at__gte=since, type__in=endpoint.events
        )
        .order_by("created_at", "id")
        .select_for_update()
        .values_list("pk", flat=True)[: REPLAY_MAX + 1]
    )
    if len(events) > REPLAY_MAX:
        raise ValidationError(
            {"since": f"More than {REPLAY_MAX} events: choose a later moment, then replay again."}
        )
    now = timezone.now()
    existing = set(
        Delivery.objects.filter(endpoint=endpoint, event_id__in=events).values_list(
            "event_id", flat=True
        )
    )
    Delivery.objects.bulk_create(
        [
            Delivery(event_id=pk, endpoint=endpoint, next_attempt_at=now)
            for pk in events
            if pk not in existing
        ]
    )
    Delivery.objects.filter(endpoint=endpoint, event_id__in=existing).exclude(
        status=Delivery.Status.SENDING
    ).update(status=Delivery.Status.PENDING, next_attempt_at=now)
    audit_record(
        actor=actor,
        action="webhook_endpoint.replayed",
        obj=endpoint,
        merchant=endpoint.merchant,
        changes={"since": [None, since.isoformat()], "events": [None, len(events)]},
    )
    delivery.wake()
    return len(events)
