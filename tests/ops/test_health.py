"""``/healthz`` and ``/readyz`` (issue 15): alive, and ready to serve."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from project.health import Migrations

from ..payments.test_webhooks import database_down

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_needs_nothing_but_the_process() -> None:
    with database_down():
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_answers_ok_when_everything_is_reachable() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_readyz_fails_while_the_database_is_unreachable_and_recovers() -> None:
    client = Client(raise_request_exception=False)
    assert client.get("/readyz").status_code == 200
    with database_down():
        down = client.get("/readyz")
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "unavailable"
    assert "database" in body["failing"]
    # Nothing about where the database lives or why it failed.
    text = down.content.decode()
    for secretive in ("127.0.0.1", "port", "5432", "sqlite3", "nonexistent", "refused"):
        assert secretive not in text
    recovered = client.get("/readyz")
    assert recovered.status_code == 200
    assert recovered.json() == {"status": "ok"}


def test_readyz_fails_while_a_migration_is_not_applied(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The migrations check reads the plan until it finds it complete."""
    monkeypatch.setattr(Migrations, "complete", False)
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="paylinks").order_by("-id").first()
    assert latest is not None
    name = latest.name
    latest.delete()  # as if the code had a migration the database has not seen
    try:
        response = Client().get("/readyz")
    finally:
        recorder.record_applied("paylinks", name)
    assert response.status_code == 503
    assert response.json()["failing"] == ["migrations"]
    assert Client().get("/readyz").status_code == 200
    assert Migrations.complete


def test_readyz_survives_any_accept_header() -> None:
    response = Client().get("/readyz", HTTP_ACCEPT="not a media type;;;")
    assert response.status_code == 200
