"""Console fixtures: signed-in clients for the named people, and a little data per merchant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from paylinks.models import Payment, PaymentLink, PaymentStatus, User

from ..factories import PaymentFactory, PaymentLinkFactory

ADMIN = "/admin/paylinks"


@pytest.fixture
def console() -> Callable[[User], Client]:
    """``console(alice)``: a client signed in as that person (MFA is off in tests)."""

    def signed_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def acme_link(acme: Any) -> PaymentLink:
    return PaymentLinkFactory(merchant=acme, title="Acme signed edition", amount=4500)


@pytest.fixture
def acme_yen_link(acme: Any) -> PaymentLink:
    return PaymentLinkFactory(
        merchant=acme, title="Acme Tokyo catalogue", currency="JPY", amount=1500
    )


@pytest.fixture
def globex_link(globex: Any) -> PaymentLink:
    return PaymentLinkFactory(
        merchant=globex, title="Globex vinyl pre-order", currency="EUR", amount=2800
    )


@pytest.fixture
def acme_payment(acme_link: PaymentLink) -> Payment:
    return PaymentFactory(
        link=acme_link,
        status=PaymentStatus.SUCCEEDED,
        payment_method_type="card",
        card_brand="visa",
        card_last4="4242",
    )


@pytest.fixture
def globex_payment(globex_link: PaymentLink) -> Payment:
    return PaymentFactory(link=globex_link, status=PaymentStatus.SUCCEEDED)


def change_url(obj: Any) -> str:
    return f"{ADMIN}/{obj._meta.model_name}/{obj.pk}/change/"


def changelist_url(model: Any) -> str:
    return f"{ADMIN}/{model._meta.model_name}/"
