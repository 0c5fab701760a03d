"""The OpenAPI document's ``webhooks`` section (OpenAPI 3.1): what Paylinks POSTs to a
merchant's webhook endpoints, one entry per event type, with the Standard Webhooks
headers. Added by a drf-spectacular postprocessing hook, since these are requests
Paylinks sends, not operations it serves. The payloads are built in
``paylinks.notifications.outbox``; tests/webhooks_out checks them against this."""

from __future__ import annotations

from typing import Any

from paylinks.models import EventType

NULLABLE_STRING = {"type": ["string", "null"]}

PAYMENT = {
    "type": "object",
    "required": ["object", "id", "status", "amount", "amount_refunded", "currency", "link"],
    "properties": {
        "object": {"const": "payment"},
        "id": {"type": "string", "description": "Paylinks' payment id: pay_…"},
        "status": {
            "type": "string",
            "enum": ["succeeded", "failed", "expired", "partially_refunded", "refunded"],
        },
        "amount": {
            "type": "integer",
            "description": "In the currency's minor unit: unit_amount x quantity.",
        },
        "unit_amount": {"type": "integer", "description": "One unit's price, minor units."},
        "quantity": {"type": "integer", "description": "Units bought (1 without quantity)."},
        "amount_refunded": {"type": "integer", "description": "In the currency's minor unit."},
        "currency": {"type": "string", "description": "ISO 4217 code, e.g. USD."},
        "amount_display": {"type": "string", "description": "e.g. 25.00 USD"},
        "link": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "payment_intent_id": {**NULLABLE_STRING, "description": "The gateway's pi_… id."},
        "checkout_session_id": {**NULLABLE_STRING, "description": "The gateway's cs_… id."},
        "method": {
            "type": ["object", "null"],
            "properties": {
                "type": {"type": "string"},
                "card_brand": NULLABLE_STRING,
                "card_last4": NULLABLE_STRING,
                "label": {"type": "string"},
            },
        },
        "customer": {
            "type": "object",
            "properties": {"email": NULLABLE_STRING, "name": NULLABLE_STRING},
        },
        "failure": {
            "type": ["object", "null"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
        "over_limit": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

LINK = {
    "type": "object",
    "required": ["object", "id", "title", "active"],
    "properties": {
        "object": {"const": "link"},
        "id": {"type": "string", "description": "The link's id: the code in its URL."},
        "title": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "active": {"type": "boolean"},
        "currency": {"type": "string"},
        "amount": {
            "type": ["integer", "null"],
            "description": "Minor units; null: customer chooses.",
        },
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "quantity": {
            "type": ["object", "null"],
            "description": "When the customer chooses a quantity: the units one payment buys.",
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
        },
        "payment_limit": {
            "type": ["integer", "null"],
            "description": "Payments, or units on a link with a quantity.",
        },
        "completed_payments": {
            "type": ["integer", "null"],
            "description": "On link.sold_out: the completed payments (units, on a link with a "
            "quantity) that reached the limit.",
        },
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

HEADERS = {
    "webhook-id": "The event's id (evt_…), the same on every retry: de-duplicate by it.",
    "webhook-timestamp": "Seconds since the epoch when this attempt was signed.",
    "webhook-signature": "v1,<base64 HMAC-SHA256>; two, space-separated, while a rotated "
    "secret's overlap lasts.",
}


def _event(type_: str, data_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "type", "timestamp", "data"],
        "properties": {
            "id": {"type": "string", "description": "evt_…, equal to the webhook-id header."},
            "type": {"const": type_},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {"$ref": data_ref},
        },
    }


def add_outgoing_webhooks(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add ``webhooks`` and their schemas."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["WebhookPayment"] = PAYMENT
    schemas["WebhookLink"] = LINK
    webhooks: dict[str, Any] = {}
    for type_ in EventType:
        if type_ == EventType.TEST:
            continue
        data_ref = (
            "#/components/schemas/WebhookPayment"
            if type_.value.startswith("payment.")
            else "#/components/schemas/WebhookLink"
        )
        name = "".join(part.title() for part in type_.value.replace(".", "_").split("_"))
        schemas[f"{name}Event"] = _event(type_.value, data_ref)
        webhooks[type_.value] = {
            "post": {
                "summary": str(type_.label),
                "description": "Sent to every enabled endpoint subscribed to "
                f"`{type_.value}`. Signed the Standard Webhooks way; answer 2xx within 10 s. "
                "Other answers are retried with back-off for about three days.",
                "operationId": f"webhook_{type_.value.replace('.', '_')}",
                "tags": ["Outgoing webhooks"],
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{name}Event"}
                        }
                    },
                },
                "responses": {"2XX": {"description": "Received; not sent again."}},
            }
        }
    result["webhooks"] = webhooks
    return result
