"""Shared fixtures: the named people every permission test talks about.

- ``alice``: owner at Acme           - ``victor``: viewer at Acme
- ``mallory``: manager at Acme       - ``bob``: owner at Globex (another tenant)
- ``sam``: support staff             - ``olivia``: signed-up outsider, no merchant
"""

from __future__ import annotations

import copy
import uuid

import pytest
from django.db import connection

from paylinks.models import Merchant, Role, User

from .factories import MembershipFactory, MerchantFactory, UserFactory


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):  # type: ignore[no-untyped-def]
    """Give every test its own cache key prefix.

    Rate-limit counters, sign-in lockouts and cached lookups then never leak from one test
    into the next, even on a Redis shared by parallel workers and earlier runs; clearing
    the cache instead would flush the other worker's keys (and the task queue with them).
    """
    caches = copy.deepcopy(settings.CACHES)
    for cache in caches.values():
        cache["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):  # type: ignore[no-untyped-def]
    """pytest-django's live server, started after the test database exists.

    Session fixtures stop in the reverse order they started: this way the server (and the
    request threads holding database connections) is gone before the database is dropped,
    even when a worker's first test is one that asks for the server before the database.
    """
    return live_server


@pytest.fixture
def acme(db) -> Merchant:  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Acme Books", slug="acme")


@pytest.fixture
def globex(db) -> Merchant:  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Globex Records", slug="globex", default_currency="EUR")


def _member(email: str, merchant: Merchant, role: str) -> User:
    user = UserFactory(email=email)
    MembershipFactory(user=user, merchant=merchant, role=role)
    return user


@pytest.fixture
def alice(acme: Merchant) -> User:
    return _member("alice@acme.test", acme, Role.OWNER)


@pytest.fixture
def mallory(acme: Merchant) -> User:
    return _member("mallory@acme.test", acme, Role.MANAGER)


@pytest.fixture
def victor(acme: Merchant) -> User:
    return _member("victor@acme.test", acme, Role.VIEWER)


@pytest.fixture
def bob(globex: Merchant) -> User:
    return _member("bob@globex.test", globex, Role.OWNER)


@pytest.fixture
def sam(db) -> User:  # type: ignore[no-untyped-def]
    return UserFactory(email="sam@paylinks.test", is_support=True)


@pytest.fixture
def olivia(db) -> User:  # type: ignore[no-untyped-def]
    return UserFactory(email="olivia@example.test")


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Skip ``@pytest.mark.postgres`` tests when the database is not PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
