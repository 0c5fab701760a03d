"""Sign-in fixtures: a private cache per test, verified addresses, TOTP codes.

allauth's rate limits and TOTP replay protection live in the cache. Each test gets its
own in-process cache, so a test's failed logins never count against another test, another
xdist worker, or the next run (the suite may run with REDIS_URL set).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from ..factories import PASSWORD

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def private_cache(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"auth-test-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def require_mfa(settings: Any) -> None:
    settings.PAYLINKS_REQUIRE_MFA = True


def verified(user: Any) -> Any:
    """Give ``user`` the verified primary address mandatory verification asks for."""
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(LOGIN, {"login": email, "password": password}, **extra)


def totp_code(secret: str, step: int = 0) -> str:
    """The code an authenticator app shows now (``step`` periods later), computed with
    allauth's own HOTP implementation. Close to the end of a 30-second period it waits
    for the next one, so the code is still current when the request arrives."""
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.05)
    counter = next(iter(yield_hotp_counters_from_time())) + step
    return format_hotp_value(hotp_value(secret, counter))


def enrol_totp(user: Any) -> tuple[str, list[str]]:
    """Set up TOTP and recovery codes for ``user`` as allauth does; return the secret and
    the recovery codes."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user)
    return secret, codes.get_unused_codes()


def has_totp(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def login_url(next_url: str) -> str:
    return f"{reverse('account_login')}?next={next_url}"
