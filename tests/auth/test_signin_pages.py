"""The sign-in pages in a real browser: an owner's first sign-in with required MFA (TOTP
set-up from the QR page's secret, recovery codes, on to the console), the code question
next time, password reset, verification, lockout — and a screenshot of every page.

Screenshots go to ``E2E_SCREENSHOT_DIR`` (default var/screenshots) as ``signin-*.png``;
``E2E_SCREENSHOT_DIR=docs/screenshots`` refreshes the ones in the docs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..e2e.servers import BROWSER_FLAGS, NO_BROWSER, ROOT, chromium_path
from ..mailbox import sent_mail
from .conftest import totp_code, verified

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("E2E_SCREENSHOT_DIR") or ROOT / "var" / "screenshots")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def page(live_server, settings) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        pytest.skip("the playwright package is not installed")
    executable = chromium_path()
    if not executable:
        pytest.skip(NO_BROWSER)
    settings.PAYLINKS_REQUIRE_MFA = True
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM between browser steps
    try:
        with sync_playwright() as api:
            browser = api.chromium.launch(executable_path=executable, args=BROWSER_FLAGS)
            context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
            context.set_default_timeout(15_000)
            tab = context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.on(
                "console",
                lambda m: (
                    errors.append(m.text)
                    # 429 (lockout) and 403 (no access) pages are answers, not errors
                    if m.type == "error" and "responded with a status of" not in m.text
                    else None
                ),
            )
            tab.base = live_server.url
            tab.errors = errors
            yield tab
            browser.close()
            assert not errors, f"errors in the page: {errors}"
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"signin-{name}.png"), full_page=True)


def go(page: Any, path: str, status: int = 200) -> None:
    response = page.goto(page.base + path)
    assert response is not None and response.status == status, (path, response and response.status)


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_owner_first_sign_in_with_required_mfa(page, alice) -> None:
    verified(alice)
    go(page, "/admin/paylinks/payment/")
    assert page.url.startswith(page.base + "/accounts/login/")
    # autofocus: Chromium applies it at a rendering update after the load event, so wait
    # for it (a busy machine delays that update) rather than read it once
    page.wait_for_function("document.activeElement && document.activeElement.name === 'login'")
    shot(page, "login")
    for _ in range(3):  # keyboard users see where they are
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none"), page.evaluate("document.activeElement.outerHTML")
    sign_in(page, alice.email, "wrong password")
    assert page.get_by_role("alert").is_visible()
    shot(page, "login-error")

    sign_in(page, alice.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert page.get_by_text("Owners and support staff protect Paylinks").is_visible()
    assert page.get_by_role("img", name=re.compile("QR code")).is_visible()
    shot(page, "totp-setup")
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Code from the app").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    codes = page.locator(".pl-codes li").all_inner_texts()
    assert len(codes) == 10
    shot(page, "recovery-codes")
    page.get_by_role("link", name=re.compile("continue")).click()
    page.wait_for_url(re.compile(r"/admin/paylinks/payment/"))

    go(page, "/accounts/2fa/")
    shot(page, "mfa-index")
    go(page, "/accounts/email/")
    shot(page, "email")
    go(page, "/accounts/logout/")
    shot(page, "logout")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))

    sign_in(page, alice.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    shot(page, "mfa-authenticate")
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    page.get_by_label("Authentication code").fill(wrong)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text(re.compile("Incorrect code", re.I)).is_visible()
    # The TOTP code above is used up for this period: a recovery code instead.
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def test_password_reset_and_verification_pages(page, mallory, olivia) -> None:
    go(page, "/accounts/password/reset/")
    shot(page, "password-reset")
    page.get_by_label("Email").fill(mallory.email)
    page.get_by_role("button", name=re.compile("Reset")).click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/done/"))
    shot(page, "password-reset-done")
    link = re.search(r"http://[^/]+(/accounts/password/reset/key/\S+/)", sent_mail()[-1].body)
    assert link
    go(page, link.group(1))
    shot(page, "password-set")
    page.get_by_label("New Password", exact=True).fill("a new long password 42")
    page.get_by_label("New Password (again)").fill("a new long password 42")
    page.get_by_role("button", name=re.compile("Change")).click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/key/done/"))
    shot(page, "password-set-done")

    go(page, "/accounts/login/")
    sign_in(page, olivia.email)  # never verified her address
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    shot(page, "verification-sent")


def test_lockout_no_access_and_sign_up_pages(page, alice, olivia, settings) -> None:
    verified(alice)
    go(page, "/accounts/login/")
    for _ in range(5):
        sign_in(page, alice.email, "not it")
    assert page.get_by_role("heading", name="Too many sign-in attempts").is_visible()
    shot(page, "lockout")

    go(page, "/accounts/signup/")
    shot(page, "signup-closed")
    settings.PAYLINKS_OPEN_SIGNUP = True
    go(page, "/accounts/signup/")
    shot(page, "signup")

    verified(olivia)
    go(page, "/accounts/login/")
    sign_in(page, olivia.email)
    page.wait_for_url(re.compile(r"/admin/login/"))
    assert page.get_by_text("not part of a merchant").is_visible()
    shot(page, "no-access")


def test_login_page_with_providers_and_on_a_phone(page, settings) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "g", "secret": "s"}]},
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "acme",
                    "name": "Acme SSO",
                    "client_id": "c",
                    "secret": "s",
                    "settings": {"server_url": "https://id.example.test"},
                }
            ]
        },
    }
    go(page, "/accounts/login/")
    assert page.get_by_role("link", name="Continue with Google").is_visible()
    assert page.get_by_role("link", name="Continue with Acme SSO").is_visible()
    shot(page, "login-providers")
    page.set_viewport_size({"width": 390, "height": 844})
    go(page, "/accounts/login/")
    shot(page, "login-phone")
