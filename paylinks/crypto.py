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

Raw gateway events (the webhook inbox, the sandbox's outbox) carry the same customer
details in their JSON, so they are stored the same way: ``EncryptedJSONField`` keeps one
Fernet token of the whole JSON text. Such a column can be read and written, never
searched or filtered on.

Searching payments by the customer's exact e-mail must not decrypt every row, so beside
the encrypted e-mail sits a keyed hash of it (``EmailSearchHashField``, HMAC-SHA256 of the
normalised address). It reveals which payments share an e-mail, nothing more, to anyone
without the key (``PAYLINKS_SEARCH_HASH_KEY``, else derived from ``SECRET_KEY``). Its
keys rotate like the encryption keys: the first one hashes, every one is searched, and
``manage.py rotate_keys`` re-hashes every payment under the first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
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


class EncryptedAtRest:
    """Marks a field whose column holds Fernet tokens (``rotate_keys`` re-encrypts it)."""


class StrictEncryptedMixin(EncryptedAtRest):
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


# --- the keyed hash for exact e-mail search --------------------------------------------
_SEARCH_HASH_CONTEXT = b"paylinks customer e-mail search hash v1"


def search_hash_secrets() -> tuple[str, ...]:
    """The secrets the search hash is keyed with, the one that hashes new values first.

    ``PAYLINKS_SEARCH_HASH_KEY`` (comma-separated, like ``FIELD_ENCRYPTION_KEY``), then
    ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``: without a dedicated key ``SECRET_KEY``
    hashes, and hashes written under a key that was current before (an older
    ``SECRET_KEY`` kept as a fallback, or ``SECRET_KEY`` before a dedicated key was set)
    are still found until ``rotate_keys`` re-hashes them.
    """
    raw = getattr(settings, "PAYLINKS_SEARCH_HASH_KEY", ())
    dedicated = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
    found = [*dedicated, settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    unique = dict.fromkeys(str(k).strip() for k in found if k and str(k).strip())
    return tuple(unique)


@lru_cache(maxsize=8)
def _search_keys(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    # Derived, never the secret itself: SECRET_KEY signs sessions, this only hashes.
    return tuple(
        hmac.new(s.encode(), _SEARCH_HASH_CONTEXT, hashlib.sha256).digest() for s in secrets
    )


def normalise_email(email: str) -> str:
    """What counts as the same address: Unicode NFC, no surrounding spaces, lower case."""
    return unicodedata.normalize("NFC", email or "").strip().lower()


def _email_hash(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def email_search_hash(email: str) -> str:
    """The stored search hash of ``email`` (under the first key); "" for no e-mail."""
    normalised = normalise_email(email)
    if not normalised:
        return ""
    return _email_hash(_search_keys(search_hash_secrets())[0], normalised)


def email_search_hashes(email: str) -> list[str]:
    """Every hash ``email`` may be stored under (one per configured key), to search with."""
    normalised = normalise_email(email)
    if not normalised:
        return []
    return [_email_hash(key, normalised) for key in _search_keys(search_hash_secrets())]


class EmailSearchHashField(models.CharField):
    """The keyed search hash of another field of the model, an e-mail, kept in step with it.

    Computed whenever the row is written: ``save()``, ``bulk_create()`` and
    ``fastsql.insert()`` all call ``pre_save``. (A ``QuerySet.update()`` of the e-mail
    does not: set it through the model.) A model whose ``save(update_fields=...)`` may
    name the e-mail alone adds this field to them (``Payment.save``).
    """

    description = "Keyed hash of an e-mail, for exact search"

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, {**kwargs, "source": self.source}

    def pre_save(self, model_instance: Model, add: bool) -> str:
        if self.source in model_instance.get_deferred_fields():
            return str(getattr(model_instance, self.attname))  # the e-mail was not loaded
        value = email_search_hash(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


if TYPE_CHECKING:
    # To the type checker (and to code using them) these are fields like any other.
    from django.db.models import CharField as EncryptedCharField
    from django.db.models import EmailField as EncryptedEmailField
    from django.db.models import JSONField as EncryptedJSONField
    from django.db.models import TextField as EncryptedTextField
else:

    class EncryptedJSONField(EncryptedAtRest, models.TextField):
        """A JSON value stored as one Fernet token of its JSON text.

        Reading decrypts strictly (``DecryptionError`` when no key fits) and parses; writing
        serialises and encrypts. The column is opaque to the database: no JSON lookups, and
        an equality filter never matches (every token is different).
        """

        description = "JSON, encrypted at rest"

        def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
            if value is None:
                return None
            return json.loads(decrypt(value, where=f"{self.model._meta.label}.{self.name}"))

        def to_python(self, value: Any) -> Any:
            return value  # already the Python value: it is only ever set from code

        def get_prep_value(self, value: Any) -> Any:
            return None if value is None else json.dumps(value, separators=(",", ":"))

        def get_db_prep_save(self, value: Any, connection: Any) -> Any:
            text = self.get_prep_value(value)
            return None if text is None else encrypt(text)

        def value_to_string(self, obj: Model) -> Any:
            return self.value_from_object(obj)  # serialisers write the value, like JSONField

        def formfield(self, **kwargs: Any) -> Any:
            return super().formfield(**{"form_class": forms.JSONField, **kwargs})

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
            str(f.column) for f in model._meta.concrete_fields if isinstance(f, EncryptedAtRest)
        ]
        if columns:
            found.append((model, columns))
    return found
