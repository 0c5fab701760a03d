"""Settings for the test suite: the real settings, with fresh secrets and fast hashing.

Tests never read the developer's ``.env``: everything they need is set here or by the
test itself, so a run on a fresh clone and on a developer's machine behave the same.
"""

import os
import secrets

from cryptography.fernet import Fernet

os.environ["PAYLINKS_SKIP_DOTENV"] = "1"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
os.environ.setdefault("PAYLINKS_TASK_BACKEND", "database")
os.environ.setdefault("PAYLINKS_REQUIRE_MFA", "false")
# One inbox wake-up per webhook event, so every test's events are processed by its own
# drain(); the batching window itself is tested in tests/payments/test_webhook_batching.py
# and used by the browser journeys (tests/e2e), as in production.
os.environ.setdefault("PAYLINKS_WEBHOOK_BATCH_MS", "0")


def _api_token_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# A fresh signing key for the merchant API's tokens, per run (servers the tests start
# inherit it through the environment).
os.environ.setdefault("API_TOKEN_PRIVATE_KEY", _api_token_key())

from project.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (whitenoise warns when missing)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: live-server threads, workers and tests then share
    # it with real locking (busy timeout, WAL) instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-paylinks.sqlite3")}  # noqa: F405
