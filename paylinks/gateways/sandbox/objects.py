"""The sandbox's objects in Stripe's JSON shapes (API version 2023-08-16), for events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from .models import SandboxEvent, SandboxPaymentIntent, SandboxRefund, SandboxSession

API_VERSION = "2023-08-16"


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def checkout_url(session: SandboxSession) -> str:
    return settings.SITE_URL + reverse("sandbox:checkout", args=[session.id])


def session_object(session: SandboxSession) -> dict[str, Any]:
    intent = getattr(session, "payment_intent", None)
    address = json.loads(session.billing_address) if session.billing_address else None
    return {
        "id": session.id,
        "object": "checkout.session",
        "amount_subtotal": session.amount_total,
        "amount_total": session.amount_total,
        "billing_address_collection": "required" if session.collect_billing_address else None,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id or None,
        "created": _ts(session.created_at),
        "currency": session.currency.lower(),
        "customer": None,
        "customer_details": {
            "address": address,
            "email": session.customer_email or None,
            "name": session.customer_name or None,
            "phone": session.customer_phone or None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        if session.status == SandboxSession.Status.COMPLETE
        else None,
        "customer_email": session.customer_email or None,
        "expires_at": _ts(session.expires_at),
        "livemode": False,
        "metadata": session.metadata,
        "mode": "payment",
        "payment_intent": intent.id if intent else None,
        "payment_method_types": ["card", "sepa_debit"],
        "payment_status": session.payment_status,
        "phone_number_collection": {"enabled": session.collect_phone},
        "status": session.status,
        "success_url": session.success_url,
        "url": checkout_url(session) if session.status == SandboxSession.Status.OPEN else None,
    }


def _error(intent: SandboxPaymentIntent) -> dict[str, Any] | None:
    if not intent.last_error_code:
        return None
    return {
        "type": "card_error" if intent.payment_method_type == "card" else "invalid_request_error",
        "code": intent.last_error_code,
        "decline_code": intent.last_error_decline_code or None,
        "message": intent.last_error_message,
    }


def payment_method_details(intent: SandboxPaymentIntent) -> dict[str, Any] | None:
    if intent.payment_method_type == "card":
        return {"type": "card", "card": {"brand": intent.card_brand, "last4": intent.last4}}
    if intent.payment_method_type:
        return {
            "type": intent.payment_method_type,
            intent.payment_method_type: {"last4": intent.last4},
        }
    return None


def charge_object(intent: SandboxPaymentIntent) -> dict[str, Any]:
    succeeded = intent.status == SandboxPaymentIntent.Status.SUCCEEDED
    return {
        "id": intent.charge_id,
        "object": "charge",
        "amount": intent.amount,
        "amount_captured": intent.amount if succeeded else 0,
        "amount_refunded": intent.amount_refunded,
        "captured": succeeded,
        "currency": intent.currency.lower(),
        "livemode": False,
        "metadata": intent.metadata,
        "paid": succeeded,
        "payment_intent": intent.id,
        "payment_method_details": payment_method_details(intent),
        "refunded": intent.amount_refunded >= intent.amount,
        "status": {"succeeded": "succeeded", "processing": "pending"}.get(intent.status, "failed"),
    }


def payment_intent_object(intent: SandboxPaymentIntent) -> dict[str, Any]:
    return {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_received": intent.amount if intent.status == "succeeded" else 0,
        "currency": intent.currency.lower(),
        "created": _ts(intent.created_at),
        "last_payment_error": _error(intent),
        "latest_charge": intent.charge_id or None,
        "livemode": False,
        "metadata": intent.metadata,
        "payment_method_types": [intent.payment_method_type or "card"],
        "status": intent.status,
    }


def refund_object(refund: SandboxRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "charge": refund.payment_intent.charge_id,
        "currency": refund.payment_intent.currency.lower(),
        "payment_intent": refund.payment_intent.id,
        "reason": refund.reason or None,
        "status": refund.status,
    }


def event_envelope(event: SandboxEvent, data_object: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": _ts(event.created_at),
        "data": {"object": data_object},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event.type,
    }
