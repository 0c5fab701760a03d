"""Django's "view on site" shortcut in the console (issue 10, finding 7).

``/admin/r/<content type id>/<object id>/`` followed any content type to any model: one
whose table does not exist answered 500 to any signed-in person. The console serves it
only for its own models and the objects the person's scoped queryset holds; anything
else is the console's ordinary 404.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from paylinks.models import PaymentLink

pytestmark = pytest.mark.django_db


def test_a_model_without_a_table_is_a_404_not_a_500(console, alice) -> None:
    admin_ct = ContentType.objects.get(app_label="wagtailadmin", model="admin")
    with connection.cursor() as cursor:
        # A model whose table is not there (rolled back with the test's transaction).
        cursor.execute("DROP TABLE wagtailadmin_admin")

    response = console(alice).get(f"/admin/r/{admin_ct.pk}/1/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/admin/r/999999/1/", "/admin/r/not-a-number/1/", "/admin/r/99999999999999999999999/1/"],
)
def test_unknown_content_types_are_a_404(console, alice, path: str) -> None:
    assert console(alice).get(path).status_code == 404


def test_another_merchants_object_is_a_404(console, alice, acme_link, globex_link) -> None:
    link_ct = ContentType.objects.get_for_model(PaymentLink)
    client = console(alice)
    assert client.get(f"/admin/r/{link_ct.pk}/{globex_link.pk}/").status_code == 404
    # Its own link has no page of its own on a site either: a 404 as well, not an error.
    assert client.get(f"/admin/r/{link_ct.pk}/{acme_link.pk}/").status_code == 404


def test_people_outside_the_console_do_not_reach_it(console, olivia) -> None:
    response = console(olivia).get("/admin/r/1/1/")
    assert response.status_code in (302, 403)
