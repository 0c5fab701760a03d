"""Real servers for the customer's journeys in a real browser.

- Django: pytest-django's ``live_server`` (a thread in this process, on the file SQLite
  test database of tests/settings.py, so the test, the server and the worker share it);
  ``SITE_URL`` is its address, so the sandbox posts its signed webhooks to it over HTTP.
- A worker: a thread that runs due tasks (webhook delivery, inbox processing, delayed
  settlement) and the sweeper, like ``manage.py worker``.
- The checkout page: ``server.mjs`` (``next start`` plus the customer's address and the
  method check) on a build made once per session, reading the API
  from the live server; Django's ``PUBLIC_CHECKOUT_URL`` points at it.
- Chromium through Playwright, launched from the system (``apt-get install chromium``).

Everything binds 127.0.0.1 on free ports and is stopped at the end.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import close_old_connections, connections

from paylinks.gateways import get_gateway
from paylinks.webhooks import inbox

from .servers import (
    BROWSER_FLAGS,
    NO_BROWSER,
    ROOT,
    NextServer,
    build_checkout,
    chromium_path,
    missing_node,
)

logger = logging.getLogger(__name__)
SHOTS = Path(os.environ.get("E2E_SCREENSHOT_DIR") or ROOT / "var" / "screenshots")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The system's Chromium, else a Playwright-managed one, else the tests skip."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        pytest.skip("the playwright package is not installed (pip install -r requirements-dev.txt)")
    found = chromium_path()
    if found:
        return found
    with sync_playwright() as api:
        managed = api.chromium.executable_path
    if managed and Path(managed).exists():
        return managed
    pytest.skip(NO_BROWSER)


@pytest.fixture
def browser(chromium_executable: str, transactional_db) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A browser per test. Playwright's sync API keeps an asyncio loop on this thread while
    it runs, so it is started after the database and stopped before the database is
    flushed, and the ORM calls the test makes between browser steps are allowed meanwhile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as api:
        browser = api.chromium.launch(executable_path=chromium_executable, args=BROWSER_FLAGS)
        previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        try:
            yield browser
        finally:
            # Connections the test opened while Playwright's loop ran belong to that
            # context; close them here, or one outlives the run and keeps the test
            # database from being dropped.
            connections.close_all()
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
            browser.close()


@pytest.fixture(scope="session")
def checkout_build() -> None:
    reason = missing_node()
    if reason:
        pytest.skip(reason)
    build_checkout()


@pytest.fixture(scope="session")
def next_server(checkout_build, live_server) -> Iterator[NextServer]:  # type: ignore[no-untyped-def]
    # The journeys change a link and open its page again at once: this shared server renders
    # every visit (no page cache); test_pay_page_cache.py runs one with the cache on.
    server = NextServer(live_server.url, CHECKOUT_PAGE_CACHE_SECONDS="0").start()
    yield server
    server.stop()
    # Node kept HTTP connections to the live server open, each served by a thread with its
    # own database connection; they end now that Node is gone. Wait for them, or the test
    # database may be dropped while one still holds a connection to it.
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=10)


def _work(stop: threading.Event) -> None:
    from paylinks.sweeper import sweep
    from tests.payments.helpers import drain

    rounds = 0
    while not stop.wait(0.25):
        try:
            drain()
            rounds += 1
            if rounds % 8 == 0:
                sweep()
        except Exception:  # a locked database now and then: log it and try again
            logger.exception("e2e worker round failed")
        finally:
            close_old_connections()
    # This thread's connection would outlive it (CONN_MAX_AGE) and keep the test database
    # from being dropped at the end of the run.
    connections.close_all()


@pytest.fixture
def worker(transactional_db) -> Iterator[None]:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    thread = threading.Thread(target=_work, args=(stop,), name="e2e-worker", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.fixture
def site(live_server, next_server, worker, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """Django, the worker and the checkout page, wired to each other."""
    # Webhook events wake the worker in batches, as in production (a fresh window).
    settings.PAYLINKS_WEBHOOK_BATCH_MS = 500
    monkeypatch.setattr(inbox, "_waker", inbox._Waker())
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = next_server.url
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_RATE_LIMITS = {}
    settings.SANDBOX_SETTLE_SECONDS = 3
    get_gateway.cache_clear()
    yield next_server
    get_gateway.cache_clear()


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):  # type: ignore[no-untyped-def]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    assert not errors, f"errors in the page: {errors}"


def shot(page, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Save ``checkout-<name>.png`` (E2E_SCREENSHOT_DIR=docs/screenshots refreshes the docs)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"checkout-{name}.png"), full_page=full_page)
