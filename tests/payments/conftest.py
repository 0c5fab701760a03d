from __future__ import annotations

import pytest

from paylinks.gateways import get_gateway


@pytest.fixture
def site(live_server, settings):  # type: ignore[no-untyped-def]
    """A live Paylinks on 127.0.0.1 whose sandbox delivers webhooks to itself."""
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "http://checkout.invalid"
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_RATE_LIMITS = {}
    get_gateway.cache_clear()
    yield live_server.url
    get_gateway.cache_clear()
