"""Django's system checks pass on the database the suite runs on (SQLite or PostgreSQL).

``manage.py migrate`` and ``runserver`` run these checks first, so an error here is a
Paylinks that does not start on that database.
"""

from __future__ import annotations

import pytest
from django.core import checks
from django.db import connection


@pytest.mark.django_db
def test_no_system_check_errors_on_this_database() -> None:
    problems = [
        f"{problem.id}: {problem.msg} ({problem.obj})"
        for problem in checks.run_checks(include_deployment_checks=False, databases=["default"])
        if problem.level >= checks.ERROR
    ]
    assert problems == [], f"on {connection.vendor}"
