from __future__ import annotations

import pytest

from paylinks.models import Merchant
from storefront.models import BookCategory, CatalogPage

from .helpers import make_shop


@pytest.fixture
def shop(acme: Merchant):  # type: ignore[no-untyped-def]
    return make_shop(acme)[0]


@pytest.fixture
def catalog(shop) -> CatalogPage:  # type: ignore[no-untyped-def]
    return CatalogPage.objects.child_of(shop).get()


@pytest.fixture
def fiction(acme: Merchant) -> BookCategory:
    return BookCategory.objects.create(merchant=acme, name="Fiction", slug="fiction")
