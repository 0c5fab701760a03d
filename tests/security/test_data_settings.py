"""The settings of customer data at rest: the search hash key and the events' retention
are checked when Paylinks starts, like the other secrets."""

from __future__ import annotations

import pytest

from .test_settings import GOOD_KEY, GOOD_SECRET, manage_check

SECRETS = {"SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEY": GOOD_KEY}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PAYLINKS_SEARCH_HASH_KEY": "too-short"}, "PAYLINKS_SEARCH_HASH_KEY entries must be"),
        ({"PAYLINKS_SEARCH_HASH_KEY": f"{'k' * 40},short"}, "at least 32 characters"),
        ({"PAYLINKS_WEBHOOK_RETENTION_DAYS": "-1"}, "PAYLINKS_WEBHOOK_RETENTION_DAYS must be"),
        ({"PAYLINKS_WEBHOOK_RETENTION_DAYS": "a month"}, "must be a whole number"),
    ],
)
def test_bad_values_stop_the_start(env: dict[str, str], words: str) -> None:
    result = manage_check(**SECRETS, **env)
    assert result.returncode != 0
    assert words in result.stderr + result.stdout


def test_good_values_start() -> None:
    result = manage_check(
        **SECRETS,
        PAYLINKS_SEARCH_HASH_KEY=f"{'a' * 40},{'b' * 32}",
        PAYLINKS_WEBHOOK_RETENTION_DAYS="0",
    )
    assert result.returncode == 0, result.stderr
