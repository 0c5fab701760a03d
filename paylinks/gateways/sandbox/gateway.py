"""The sandbox adapter: Paylinks' built-in test-mode gateway, no keys needed.

It answers the port from the sandbox's own tables and signs its webhooks exactly like
Stripe, so the webhook pipeline cannot tell the two apart.
"""

from __future__ import annotations

import json

from django.conf import settings

from paylinks.gateways.base import (
    CheckoutRequest,
    CheckoutSession,
    Gateway,
    GatewayError,
    PaymentMethodInfo,
    Refund,
    WebhookEvent,
    verify_stripe_signature,
)

from . import delivery, engine, objects
from .models import SandboxPaymentIntent, SandboxSession


class SandboxGateway(Gateway):
    name = "sandbox"
    test_mode = True

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        session, created = engine.create_session(request)
        # A session opened just now has no payment intent yet: no need to look for one.
        return self._view(session, look_for_intent=not created)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        session = SandboxSession.objects.filter(pk=session_id).first()
        if session is None:
            raise GatewayError(f"No such checkout.session: {session_id}", permanent=True)
        return self._view(session)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        try:
            return self._view(engine.expire(session_id))
        except engine.SandboxError as exc:
            raise GatewayError(str(exc), permanent=True) from exc

    def refund(
        self, *, payment_intent_id: str, amount: int, reason: str, idempotency_key: str
    ) -> Refund:
        created = engine.refund(
            intent_id=payment_intent_id,
            amount=amount,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return Refund(id=created.id, amount=created.amount, status=created.status)

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        return verify_stripe_signature(payload, signature_header, settings.STRIPE_WEBHOOK_SECRET)

    def housekeeping(self) -> dict[str, int]:
        """The sandbox's own clock: expiries, due settlements, undelivered events, and
        delivered events past their retention."""
        result = engine.sweep()
        delivered = sum(delivery.deliver(event_id) for event_id in delivery.due_events())
        return {**result, "delivered": delivered, "events_pruned": delivery.prune_delivered()}

    @staticmethod
    def _view(session: SandboxSession, *, look_for_intent: bool = True) -> CheckoutSession:
        intent = (
            SandboxPaymentIntent.objects.filter(session=session).first()
            if look_for_intent
            else None
        )
        method = None
        if intent is not None and intent.payment_method_type:
            method = PaymentMethodInfo(
                type=intent.payment_method_type, brand=intent.card_brand, last4=intent.last4
            )
        complete = session.status == SandboxSession.Status.COMPLETE
        return CheckoutSession(
            id=session.id,
            status=session.status,
            payment_status=session.payment_status,
            amount_total=session.amount_total,
            currency=session.currency,
            url=objects.checkout_url(session) if session.status == "open" else None,
            client_reference_id=session.client_reference_id,
            metadata=dict(session.metadata),
            payment_intent_id=intent.id if intent else "",
            payment_intent_status=intent.status if intent else "",
            payment_method=method,
            amount_refunded=intent.amount_refunded if intent else 0,
            customer_email=session.customer_email if complete else "",
            customer_name=session.customer_name if complete else "",
            customer_phone=session.customer_phone if complete else "",
            billing_address=json.loads(session.billing_address)
            if complete and session.billing_address
            else None,
            last_error_code=intent.last_error_code if intent else "",
            last_error_message=intent.last_error_message if intent else "",
            last_error_decline_code=intent.last_error_decline_code if intent else "",
            last_error_attempt=intent.charge_id if intent and intent.last_error_code else "",
            expires_at=session.expires_at,
            quantity=session.quantity,
        )
