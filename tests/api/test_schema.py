"""The OpenAPI 3.1 schema (zero warnings, the public endpoints included) and its docs
pages, served from Paylinks' own static files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from paylinks.models import ApiScope

pytestmark = pytest.mark.django_db


def test_schema_validates_with_zero_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    # --fail-on-warn raises on the first warning or error drf-spectacular emits.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.1.0")


def test_schema_has_every_operation_with_its_scope() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    assert schema["openapi"] == "3.1.0"
    ops = {
        (path, method): op for path, item in schema["paths"].items() for method, op in item.items()
    }
    expected = {
        ("/api/v1/links", "get"): "links:read",
        ("/api/v1/links", "post"): "links:write",
        ("/api/v1/links/{link_id}", "get"): "links:read",
        ("/api/v1/links/{link_id}", "patch"): "links:write",
        ("/api/v1/links/{link_id}/deactivate", "post"): "links:write",
        ("/api/v1/links/{link_id}/activate", "post"): "links:write",
        ("/api/v1/links/{link_id}/qr.svg", "get"): "links:read",
        ("/api/v1/links/{link_id}/qr.png", "get"): "links:read",
        ("/api/v1/payments", "get"): "payments:read",
        ("/api/v1/payments/{payment_id}", "get"): "payments:read",
        ("/api/v1/payments/{payment_id}/refunds", "get"): "payments:read",
        ("/api/v1/payments/{payment_id}/refunds", "post"): "refunds:write",
        ("/api/v1/analytics/summary", "get"): "analytics:read",
    }
    for key, scope in expected.items():
        assert ops[key]["security"] == [{"oauth2": [scope]}], key
    public = [key for key in ops if key[0].startswith("/api/v1/public/")]
    assert len(public) == 5
    flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flows["tokenUrl"] == "/identity/o/api/token"
    assert set(flows["scopes"]) == set(ApiScope.values)


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/docs/redoc/"])
def test_docs_are_served_offline(path: str) -> None:
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by Paylinks"
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
    assert "cdn" not in html.lower()
    # The console's policy (Swagger UI needs inline script); connections stay same-origin.
    assert "connect-src 'self'" in page["Content-Security-Policy"]


def test_api_answers_keep_the_strict_policy() -> None:
    response = Client().get("/api/v1/links")
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
