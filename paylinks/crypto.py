"""Customer data encrypted at rest (Fernet), failing loudly when the key is wrong.

django-encrypted-model-fields does the encryption, but on a wrong key it hands back the
ciphertext as if it were the value, and it builds its keys once at import. The fields
here decrypt strictly (a value that does not decrypt raises ``DecryptionError``) with the
keys currently in ``FIELD_ENCRYPTION_KEY``: the first key encrypts, every key decrypts,
so keys can be rotated with ``manage.py rotate_keys``.

An empty value is stored as the empty string, not encrypted. A reader of the database
learns that the customer left that field blank and nothing else (a Fernet token of ""
is as long as one of any value under 16 bytes, so before this it did not even learn
that); in return a checkout skips a Fernet encryption for each blank field, and most
checkouts leave most of their eight (payment and sandbox session, four each) blank.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from encrypted_model_fields import fields as upstream


class DecryptionError(ImproperlyConfigured):
    """Stored data does not decrypt with any configured key."""


def configured_keys() -> tuple[str, ...]:
    raw = settings.FIELD_ENCRYPTION_KEY
    keys = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
    return tuple(k.strip() for k in keys if k and k.strip())


@lru_cache(maxsize=8)
def _crypter(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty: customer data cannot be read.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY is not a valid Fernet key: {exc}"
        ) from None


def crypter() -> MultiFernet:
    return _crypter(configured_keys())


def encrypt(value: str) -> str:
    return crypter().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, where: str = "a value") -> str:
    try:
        return crypter().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError(
            f"Cannot decrypt {where} with FIELD_ENCRYPTION_KEY. The key is wrong or missing: "
            "restore the key the data was written with (keep old keys after the first "
            "one until `manage.py rotate_keys` has run)."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first key; raises DecryptionError if no key fits."""
    try:
        return crypter().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError("A stored value does not decrypt with any configured key.") from None


class StrictEncryptedMixin:
    """Decrypt values coming from the database strictly; leave other input as typed."""

    def from_db_value(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return value
        where = f"{self.model._meta.label}.{self.name}"  # type: ignore[attr-defined]
        return self.to_python(decrypt(value, where=where))

    def to_python(self, value: Any) -> Any:
        # Values that reach to_python come from forms and deserialisation: plain text.
        return super(upstream.EncryptedMixin, self).to_python(value)  # type: ignore[misc]

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        value = super(upstream.EncryptedMixin, self).get_db_prep_save(value, connection)  # type: ignore[misc]
        if value is None:
            return None
        text = str(value)
        return encrypt(text) if text else ""


if TYPE_CHECKING:
    # To the type checker (and to code using them) these are text fields like any other.
    from django.db.models import CharField as EncryptedCharField
    from django.db.models import EmailField as EncryptedEmailField
    from django.db.models import TextField as EncryptedTextField
else:

    class EncryptedCharField(StrictEncryptedMixin, upstream.EncryptedCharField):
        pass

    class EncryptedEmailField(StrictEncryptedMixin, upstream.EncryptedEmailField):
        pass

    class EncryptedTextField(StrictEncryptedMixin, upstream.EncryptedTextField):
        pass


def encrypted_columns() -> list[tuple[type[Model], list[str]]]:
    """Every model with encrypted fields, with those fields' column names."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        columns = [
            str(f.column)
            for f in model._meta.concrete_fields
            if isinstance(f, StrictEncryptedMixin)
        ]
        if columns:
            found.append((model, columns))
    return found
