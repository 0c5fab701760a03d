"""The checkout page's batched visit counts (paylinks/api/internal.py): only with the
shared token, each visit counted as a single one would be, bad input a 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paylinks.models import LinkView
from paylinks.models.analytics import ViewRollup

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/internal/views"
TOKEN = "t0k3n-" + "x" * 40


def post(client: Any, body: Any, token: str | None = TOKEN) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **headers)


@pytest.fixture
def token(settings: Any) -> str:
    settings.PAYLINKS_CHECKOUT_TOKEN = TOKEN
    return TOKEN


def test_a_batch_counts_each_new_visit_once(client, token, acme) -> None:  # type: ignore[no-untyped-def]
    one, two = PaymentLinkFactory(merchant=acme), PaymentLinkFactory(merchant=acme)
    views = [
        {"slug": one.slug, "visitor": "a" * 48},
        {"slug": one.slug, "visitor": "b" * 48},
        {"slug": one.slug, "visitor": "a" * 48},  # the same visitor in the same window
        {"slug": two.slug, "visitor": "a" * 48},
        {"slug": "no-such-link", "visitor": "c" * 48},
    ]
    answer = post(client, {"views": views})
    assert answer.status_code == 202 and answer.json() == {"recorded": 3}
    assert LinkView.objects.filter(link=one).count() == 2
    assert LinkView.objects.filter(link=two).count() == 1
    assert sum(r.views for r in ViewRollup.objects.filter(link=one)) == 2
    # Sent again (a retried batch): nothing more is counted.
    assert post(client, {"views": views}).json() == {"recorded": 0}


def test_without_the_setting_there_is_no_endpoint(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_CHECKOUT_TOKEN = ""
    assert post(client, {"views": []}).status_code == 404
    assert post(client, {"views": []}, token="").status_code == 404


@pytest.mark.parametrize("given", [None, "", "wrong", TOKEN + "x", TOKEN[:-1]])
def test_a_wrong_token_is_refused(client, token, acme, given) -> None:  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme)
    answer = post(client, {"views": [{"slug": link.slug, "visitor": "a" * 48}]}, token=given)
    assert answer.status_code == 401
    assert not LinkView.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "null",
        [],
        {"views": "x"},
        {"views": [{"slug": "abc"}]},
        {"views": [{"slug": "abc", "visitor": "short"}]},
        {"views": [{"slug": "", "visitor": "a" * 48}]},
        {"views": [{"slug": "abc", "visitor": 7}]},
        {"views": [["abc", "a" * 48]]},
        {"views": [{"slug": "abc", "visitor": "a" * 48}] * 1001},
    ],
)
def test_bad_input_is_a_400(client, token, body) -> None:  # type: ignore[no-untyped-def]
    answer = post(client, body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] in (
        "invalid_request",
        "payload_too_large",
    )


def test_only_post(client, token) -> None:  # type: ignore[no-untyped-def]
    assert client.get(URL).status_code == 405
