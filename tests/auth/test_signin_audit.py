"""Sign-ins and failed sign-ins reach the audit log: who (or what was typed, masked when
it is no account), from which address, when; never a password. Support staff read them;
merchants do not (they belong to no merchant)."""

from __future__ import annotations

import pytest
from django.test import Client

from paylinks.models import AuditEntry

from ..factories import PASSWORD
from .conftest import sign_in, verified

pytestmark = pytest.mark.django_db

HERE = "198.51.100.7"
WRONG = "hunter2-not-the-password"


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_a_sign_in_is_recorded_with_its_address(alice) -> None:
    verified(alice)
    assert sign_in(Client(REMOTE_ADDR=HERE), alice.email, PASSWORD).status_code == 302
    (entry,) = entries("auth.signed_in")
    assert (entry.actor, entry.actor_email, entry.merchant) == (alice, alice.email, None)
    assert entry.changes == {"address": HERE, "method": "password"}


def test_a_wrong_password_is_recorded_without_the_password(alice) -> None:
    verified(alice)
    assert sign_in(Client(REMOTE_ADDR=HERE), "Alice@Acme.test", WRONG).status_code == 200
    (entry,) = entries("auth.sign_in_failed")
    assert entry.actor is None and entry.merchant is None
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "paylinks.user",
        str(alice.pk),
        alice.email,
    )
    assert entry.changes == {"address": HERE}
    assert not entries("auth.signed_in")
    row = AuditEntry.objects.filter(pk=entry.pk).values().get()
    assert WRONG not in str(row)


def test_an_address_with_no_account_is_kept_masked(db) -> None:  # type: ignore[no-untyped-def]
    # People type passwords into the e-mail box: what matches no account stays masked.
    sign_in(Client(REMOTE_ADDR=HERE), "Tr0ub4dor&3@mistyped.example", WRONG)
    (entry,) = entries("auth.sign_in_failed")
    assert entry.object_type == "auth.unknown_account"
    assert entry.object_repr == "t•••@mistyped.example"
    assert "Tr0ub4dor" not in str(AuditEntry.objects.filter(pk=entry.pk).values().get())


def test_a_locked_out_attempt_says_so(settings, alice) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 2
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    sign_in(client, alice.email, WRONG)
    sign_in(client, alice.email, WRONG)
    assert sign_in(client, alice.email, PASSWORD).status_code == 429
    assert [e.changes.get("locked out", False) for e in entries("auth.sign_in_failed")][-1]
    assert not entries("auth.signed_in")


def test_support_reads_sign_ins_and_merchants_do_not(alice, sam) -> None:  # type: ignore[no-untyped-def]
    verified(alice)
    sign_in(Client(REMOTE_ADDR=HERE), alice.email, WRONG)
    sign_in(Client(REMOTE_ADDR=HERE), alice.email, PASSWORD)
    support, owner = Client(), Client()
    support.force_login(sam)
    owner.force_login(alice)
    url = "/admin/paylinks/auditentry/"
    seen = support.get(url, {"action": "group:sign_ins"}).content.decode()
    assert "Signed in" in seen and "Sign-in failed" in seen and "Someone not signed in" in seen
    assert "Signed in" not in owner.get(url).content.decode()
    entry = entries("auth.sign_in_failed")[0]
    assert support.get(f"{url}{entry.pk}/change/").status_code == 200
    assert owner.get(f"{url}{entry.pk}/change/").status_code == 404
