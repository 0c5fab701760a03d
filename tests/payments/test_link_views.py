"""Visits to a link's page, counted once per visitor per window, for the funnel."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from paylinks.models import LinkView

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db


def view(client, slug: str, visitor: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/public/links/{slug}/views",
        data={"visitor": visitor},
        content_type="application/json",
    )


def test_a_visitor_counts_once_per_window(client, acme, settings) -> None:
    settings.PAYLINKS_RATE_LIMITS = {}
    link = PaymentLinkFactory(merchant=acme)
    start = timezone.now().replace(minute=1, second=0)
    with time_machine.travel(start, tick=False):
        assert view(client, link.slug, "v" * 20).json() == {"recorded": True}
        assert view(client, link.slug, "v" * 20).json() == {"recorded": False}
        assert view(client, link.slug, "w" * 20).json() == {"recorded": True}
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert view(client, link.slug, "v" * 20).json() == {"recorded": True}
    assert LinkView.objects.filter(link=link).count() == 3
    assert not LinkView.objects.filter(visitor_hash__contains="vvvv").exists()  # only a keyed hash


@pytest.mark.parametrize("visitor", ["short", 5, None, "x" * 129])
def test_bad_visitor_ids(client, acme, visitor) -> None:
    link = PaymentLinkFactory(merchant=acme)
    response = view(client, link.slug, visitor)
    assert response.status_code == 400
    assert not LinkView.objects.exists()


def test_unknown_link(client) -> None:
    assert view(client, "nope", "v" * 20).status_code == 404
