"""The team page: owners add people by e-mail, change roles and remove members.

What the services refuse (a duplicate member, losing the last owner) comes back as a
message on the page, never as a server error.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from paylinks.models import AuditEntry, Membership, Role

from ..mailbox import sent_mail
from .conftest import ADMIN, change_url

pytestmark = pytest.mark.django_db


def membership(user) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=user)


def test_owner_adds_an_unknown_person_who_gets_an_invitation(
    console, alice, acme, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = console(alice).post(
            f"{ADMIN}/membership/add/",
            {"email": "new.person@example.test", "role": Role.VIEWER, "_save": "Save"},
        )
    assert response.status_code == 302
    assert Membership.objects.filter(user__email="new.person@example.test", merchant=acme).exists()
    assert [m.to for m in sent_mail()] == [["new.person@example.test"]]
    assert AuditEntry.objects.filter(action="member.added").exists()


def test_adding_an_existing_member_is_a_field_error(console, alice, mallory) -> None:
    response = console(alice).post(
        f"{ADMIN}/membership/add/", {"email": mallory.email, "role": Role.OWNER, "_save": "Save"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already a member" in " ".join(errors["email"])
    assert membership(mallory).role == Role.MANAGER


def test_owner_changes_a_role(console, alice, mallory) -> None:
    response = console(alice).post(change_url(membership(mallory)), {"role": Role.VIEWER})
    assert response.status_code == 302
    assert membership(mallory).role == Role.VIEWER
    entry = AuditEntry.objects.get(action="member.role_changed")
    assert entry.changes == {"role": [Role.MANAGER, Role.VIEWER]}


def test_demoting_the_last_owner_is_a_friendly_error(console, alice) -> None:
    response = console(alice).post(change_url(membership(alice)), {"role": Role.VIEWER})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "at least one owner" in " ".join(errors["role"])
    assert membership(alice).role == Role.OWNER


def test_a_second_owner_makes_demotion_possible(console, alice, mallory) -> None:
    client = console(alice)
    client.post(change_url(membership(mallory)), {"role": Role.OWNER})
    response = client.post(change_url(membership(alice)), {"role": Role.MANAGER})
    assert response.status_code == 302
    assert membership(alice).role == Role.MANAGER


def test_owner_removes_a_member(console, alice, victor) -> None:
    target = membership(victor)
    response = console(alice).post(f"{ADMIN}/membership/{target.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert AuditEntry.objects.filter(action="member.removed").exists()


def test_removing_the_last_owner_is_refused_with_a_message(console, alice) -> None:
    target = membership(alice)
    response = console(alice).post(f"{ADMIN}/membership/{target.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == change_url(target)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("at least one owner" in text for text in texts)
    assert Membership.objects.filter(pk=target.pk).exists()


def test_bulk_removal_keeps_the_last_owner(console, alice, victor) -> None:
    response = console(alice).post(
        f"{ADMIN}/membership/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [membership(alice).pk, membership(victor).pk],
        },
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=alice).exists()
    assert not Membership.objects.filter(user=victor).exists()


def test_manager_sees_the_team_read_only(console, mallory, alice) -> None:
    client = console(mallory)
    page = client.get(f"{ADMIN}/membership/").content.decode()
    assert alice.email in page
    detail = client.get(change_url(membership(alice))).content.decode()
    assert 'name="role"' not in detail
    assert client.post(f"{ADMIN}/membership/{membership(alice).pk}/delete/").status_code == 403
