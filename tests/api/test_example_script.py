"""docs/examples/merchant_api.py runs as written against a live Paylinks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paylinks.models import PaymentLink, PaymentStatus

from ..factories import PaymentFactory, PaymentLinkFactory
from .conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "merchant_api.py"


def test_example_script_round_trip(live_server, settings, acme, alice) -> None:
    settings.SITE_URL = live_server.url
    settings.PAYLINKS_RATE_LIMITS = {}
    PaymentFactory(link=PaymentLinkFactory(merchant=acme), status=PaymentStatus.SUCCEEDED)
    issued = make_client(acme, alice, scopes=["links:write", "payments:read"])
    env = {
        **os.environ,
        "PAYLINKS_URL": live_server.url,
        "PAYLINKS_CLIENT_ID": issued.client_id,
        "PAYLINKS_CLIENT_SECRET": issued.client_secret,
        "ORDER_ID": "A-1001",
    }
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused as expected: 400 invalid_request" in result.stdout
    assert "1 payment(s) on the first page" in result.stdout
    link = PaymentLink.objects.get(title="Order A-1001")
    assert link.metadata == {"order": "A-1001"} and link.amount == 4200
