"""Gateway registry: ``PAYLINKS_GATEWAY`` names one entry of ``PAYLINKS_GATEWAYS``."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import (
    CheckoutRequest,
    CheckoutSession,
    Gateway,
    GatewayError,
    PaymentMethodInfo,
    Refund,
    SignatureError,
    WebhookEvent,
    deadline_remaining,
    gateway_deadline,
)

__all__ = [
    "CheckoutRequest",
    "CheckoutSession",
    "Gateway",
    "GatewayError",
    "PaymentMethodInfo",
    "Refund",
    "SignatureError",
    "WebhookEvent",
    "deadline_remaining",
    "gateway_deadline",
    "get_gateway",
]


@cache
def get_gateway(name: str | None = None) -> Gateway:
    """The configured gateway (or the one called ``name``), built once per process."""
    name = name or settings.PAYLINKS_GATEWAY
    try:
        path = settings.PAYLINKS_GATEWAYS[name]
    except KeyError:
        raise GatewayError(f"No gateway called {name!r} is configured", permanent=True) from None
    gateway: Gateway = import_string(path)()
    return gateway


@receiver(setting_changed)
def _forget_gateways(*, setting: str, **kwargs: object) -> None:
    if setting.startswith(("PAYLINKS_", "STRIPE_", "SANDBOX_")):
        get_gateway.cache_clear()
