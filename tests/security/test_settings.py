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
        if not k.startswith(("SECRET_KEY", "FIELD_ENCRYPTION", "DEBUG", "BEHIND_TLS"))
        and not k.endswith("TRUSTED_PROXIES")
    }
    clean |= {"PAYLINKS_SKIP_DOTENV": "1", "DJANGO_SETTINGS_MODULE": "project.settings"}
    clean |= {"DATABASE_URL": "sqlite:////tmp/paylinks-settings-check.sqlite3"}
    deploy = ["--deploy"] if env.pop("DEPLOY", "") else []
    return subprocess.run(
        [sys.executable, "manage.py", "check", *deploy],
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


PROXY_COUNTS = (
    "from django.conf import settings; from rest_framework.settings import api_settings; "
    "print(api_settings.NUM_PROXIES, settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
)


def proxy_counts(**env: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BEHIND_TLS") and not k.endswith("TRUSTED_PROXIES")
    }
    clean |= {"PAYLINKS_SKIP_DOTENV": "1", "DJANGO_SETTINGS_MODULE": "project.settings"}
    clean |= {"SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEY": GOOD_KEY, "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROXY_COUNTS}"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_behind_a_tls_proxy_one_hop_is_believed_unless_told_otherwise() -> None:
    # Behind a proxy with the counts at 0, every client is the proxy: one client's failed
    # sign-ins would lock everyone out. BEHIND_TLS_PROXY already says Django is reached
    # only through that proxy, so its one X-Forwarded-For entry is believed.
    assert proxy_counts() == "0 0"
    assert proxy_counts(BEHIND_TLS_PROXY="true") == "1 1"
    assert proxy_counts(BEHIND_TLS_PROXY="true", PAYLINKS_SIGNIN_TRUSTED_PROXIES="2") == "1 2"
    assert proxy_counts(PAYLINKS_TRUSTED_PROXIES="1") == "1 0"


def test_deploy_check_flags_a_tls_proxy_whose_forwarded_for_is_not_believed() -> None:
    base = {"SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEY": GOOD_KEY}
    flagged = manage_check(
        **base, BEHIND_TLS_PROXY="true", PAYLINKS_SIGNIN_TRUSTED_PROXIES="0", DEPLOY="1"
    )
    assert "paylinks.W010" in flagged.stdout + flagged.stderr
    assert "PAYLINKS_SIGNIN_TRUSTED_PROXIES=0" in flagged.stdout + flagged.stderr
    fine = manage_check(**base, BEHIND_TLS_PROXY="true", DEPLOY="1")
    assert "paylinks.W010" not in fine.stdout + fine.stderr


def check_ids(result: subprocess.CompletedProcess[str]) -> set[str]:
    import re

    return set(re.findall(r"\((\w+\.[WE]\d+)\)", result.stdout + result.stderr))


def test_deploy_check_reports_only_what_docs_security_explains() -> None:
    # docs/security.md, "What the operator must do": the production settings of
    # docs/operations.md plus TLS leave only the two HSTS choices Paylinks never makes itself.
    production = {
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "FIELD_ENCRYPTION_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "pay.example.com",
        "SITE_URL": "https://pay.example.com",
        "BEHIND_TLS_PROXY": "true",
        "DEPLOY": "1",
    }
    before_https = manage_check(**production)
    assert check_ids(before_https) == {"security.W004", "security.W008"}, before_https.stdout
    with_tls = manage_check(
        **production, SECURE_SSL_REDIRECT="true", SECURE_HSTS_SECONDS="31536000"
    )
    assert check_ids(with_tls) == {"security.W005", "security.W021"}, with_tls.stdout
    everything = manage_check(
        **production,
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
    )
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert check_ids(everything) == set(), everything.stdout + everything.stderr
