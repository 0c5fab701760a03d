"""Production settings refuse to start without real secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def manage_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECRET_KEY", "FIELD_ENCRYPTION", "DEBUG"))
    }
    clean |= {"PAYLINKS_SKIP_DOTENV": "1", "DJANGO_SETTINGS_MODULE": "project.settings"}
    clean |= {"DATABASE_URL": "sqlite:////tmp/paylinks-settings-check.sqlite3"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


GOOD_KEY = Fernet.generate_key().decode()
GOOD_SECRET = "s" * 50


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"FIELD_ENCRYPTION_KEY": GOOD_KEY}, "SECRET_KEY is missing or too weak"),
        (
            {"SECRET_KEY": "short", "FIELD_ENCRYPTION_KEY": GOOD_KEY},
            "SECRET_KEY is missing or too weak",
        ),
        ({"SECRET_KEY": GOOD_SECRET}, "FIELD_ENCRYPTION_KEY is missing"),
        (
            {"SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEY": "not-a-key"},
            "entry 1 is not a valid Fernet key",
        ),
        (
            {
                "SECRET_KEY": GOOD_SECRET,
                "FIELD_ENCRYPTION_KEY": GOOD_KEY,
                "PAYLINKS_GATEWAY": "stripe",
            },
            "paylinks.E002",
        ),
        (
            {"SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEY": GOOD_KEY, "DEBUG": "ture"},
            "DEBUG must be true or false",
        ),
    ],
)
def test_production_refuses_to_start_without_real_secrets(env: dict[str, str], words: str) -> None:
    result = manage_check(**env)
    assert result.returncode != 0
    assert words in result.stderr + result.stdout


def test_production_starts_with_real_secrets() -> None:
    result = manage_check(
        SECRET_KEY=GOOD_SECRET, FIELD_ENCRYPTION_KEY=f"{GOOD_KEY},{Fernet.generate_key().decode()}"
    )
    assert result.returncode == 0, result.stderr


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(GOOD_SECRET + "\n")
    result = manage_check(SECRET_KEY_FILE=str(secret), FIELD_ENCRYPTION_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
