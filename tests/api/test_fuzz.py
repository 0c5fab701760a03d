"""schemathesis runs every operation of the OpenAPI schema against a live Paylinks, with
a real access token (every scope) and with none: no answer is a 5xx, and every answer
conforms to the schema (status code, content type, headers, body).

Bounded so it fits in ``make test``: ``PAYLINKS_FUZZ_EXAMPLES`` cases per operation
(default 12) and a fixed seed, so a failure reproduces; raise both to fuzz harder locally.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paylinks.models import ApiScope, PaymentStatus

from ..factories import PaymentFactory, PaymentLinkFactory
from .conftest import make_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

EXAMPLES = os.environ.get("PAYLINKS_FUZZ_EXAMPLES", "12")
SEED = os.environ.get("PAYLINKS_FUZZ_SEED", "20261201")
ST = Path(sys.executable).parent / "st"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
    ]
)


@pytest.fixture
def fuzz_site(live_server, settings, acme, alice):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    settings.PAYLINKS_RATE_LIMITS = {}
    link = PaymentLinkFactory(merchant=acme)
    PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED, payment_intent_id="pi_fuzz")
    return live_server.url


def run_schemathesis(base: str, tmp_path: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    args = [
        str(ST), "run", f"{base}/api/v1/schema/",
        "--checks", CHECKS,
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        "--phases", "examples,coverage,fuzzing",
        "--workers", "2",
        "--no-shrink",
        "--request-timeout", "20",
        "--generation-database", "none",
        "--no-color",
        "--report", "junit",
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    for header in headers:
        args += ["--header", header]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    # In the test's own folder: schemathesis keeps a cache of what it found beside it.
    return subprocess.run(args, capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)


def _assert_passed(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    if os.environ.get("PAYLINKS_FUZZ_OUTPUT"):
        Path(os.environ["PAYLINKS_FUZZ_OUTPUT"]).write_text(output)
    assert result.returncode == 0, output[-20000:]
    assert "No issues found" in output or " passed" in output, output[-5000:]


def test_fuzz_with_a_token_of_every_scope(fuzz_site, acme, alice, tmp_path) -> None:
    import requests

    issued = make_client(acme, alice, scopes=list(ApiScope.values))
    token = requests.post(
        f"{fuzz_site}/identity/o/api/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
        timeout=10,
    ).json()["access_token"]
    _assert_passed(run_schemathesis(fuzz_site, tmp_path, f"Authorization: Bearer {token}"))


def test_fuzz_without_a_token(fuzz_site, tmp_path) -> None:
    _assert_passed(run_schemathesis(fuzz_site, tmp_path))
