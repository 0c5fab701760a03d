"""``manage.py rotate_keys``: re-encrypt every stored customer field under the first key,
and re-hash every customer e-mail's search hash under the first search key.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (keeping the old ones after it),
deploy, run this command, then remove the old keys. Values are rotated in the database
without passing through model code, in batches, each batch in its own transaction, so
the command can be stopped and run again safely. That covers the encrypted columns of
every model, the raw webhook payloads included (the inbox and the sandbox's events), and
the MFA secrets allauth keeps inside its authenticators' JSON (``paylinks.auth.adapters``).

The e-mail search hash (``Payment.customer_email_hash``) is keyed with
PAYLINKS_SEARCH_HASH_KEY or, without it, SECRET_KEY: after changing either, this
command recomputes every hash from the decrypted e-mail under the current key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from paylinks.crypto import (
    DecryptionError,
    configured_keys,
    decrypt,
    email_search_hash,
    encrypted_columns,
    rotate,
)
from paylinks.models import Payment

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt customer data under the first key of FIELD_ENCRYPTION_KEY and re-hash "
        "customer e-mails under the current search key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = configured_keys()
        self.stdout.write(f"Rotating to key 1 of {len(keys)}.")
        total = 0
        for model, columns in encrypted_columns():
            count = self._rotate_table(model._meta.db_table, str(model._meta.pk.column), columns)
            self.stdout.write(f"  {model._meta.label}: {count} row(s)")
            total += count
        mfa = self._rotate_mfa_secrets()
        self.stdout.write(f"  MFA authenticators: {mfa} row(s)")
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total + mfa} row(s)."))
        rehashed = self._rehash_emails()
        self.stdout.write(self.style.SUCCESS(f"Re-hashed {rehashed} customer e-mail(s)."))

    def _each_batch(
        self,
        table: str,
        pk: str,
        columns: list[str],
        handle: Callable[[Any, list[tuple[Any, ...]]], int],
        where: str = "",
    ) -> int:
        """Hand ``handle(cursor, rows)`` each batch of up to BATCH rows, by primary key, in
        its own transaction with its rows locked: a concurrent write to a row waits for
        the batch and then writes over the rotated value, so no write is lost. Returns
        the sum of what ``handle`` returned."""
        quote = connection.ops.quote_name
        select_cols = ", ".join(quote(c) for c in [pk, *columns])
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        last: Any = None
        total = 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                conditions = [c for c in (where, "" if last is None else f"{quote(pk)} > %s") if c]
                cursor.execute(
                    f"SELECT {select_cols} FROM {quote(table)} "  # noqa: S608
                    + (f"WHERE {' AND '.join(conditions)} " if conditions else "")
                    + f"ORDER BY {quote(pk)} LIMIT {BATCH}{lock}",
                    [] if last is None else [last],
                )
                rows = cursor.fetchall()
                if not rows:
                    return total
                total += handle(cursor, rows)
            last = rows[-1][0]

    def _rotate_table(self, table: str, pk: str, columns: list[str]) -> int:
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)

        def rotate_rows(cursor: Any, rows: list[tuple[Any, ...]]) -> int:
            updates = []
            for row in rows:
                try:
                    values = [rotate(v) if v else v for v in row[1:]]  # blanks stay blank
                except DecryptionError as exc:
                    raise CommandError(f"{table} row {row[0]}: {exc}") from None
                updates.append([*values, row[0]])
            cursor.executemany(
                f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s",  # noqa: S608
                updates,
            )
            return len(rows)

        return self._each_batch(table, pk, columns, rotate_rows)

    def _rotate_mfa_secrets(self) -> int:
        """TOTP secrets and recovery-code seeds: encrypted values inside a JSON column."""
        done = 0
        last = 0
        while True:
            with transaction.atomic():
                rows = list(
                    Authenticator.objects.select_for_update()
                    .filter(pk__gt=last)
                    .order_by("pk")
                    .values_list("pk", "data")[:BATCH]
                )
                for pk, data in rows:
                    try:
                        rotated = _rotate_mfa_data(data)
                    except DecryptionError as exc:
                        raise CommandError(f"MFA authenticator {pk}: {exc}") from None
                    Authenticator.objects.filter(pk=pk).update(data=rotated)
            if not rows:
                return done
            done += len(rows)
            last = rows[-1][0]

    def _rehash_emails(self) -> int:
        """Recompute each payment's e-mail search hash where the current key gives another."""
        quote = connection.ops.quote_name
        table = Payment._meta.db_table

        def rehash_rows(cursor: Any, rows: list[tuple[Any, ...]]) -> int:
            updates = []
            for pk, token, stored in rows:
                try:
                    wanted = email_search_hash(decrypt(token, where=f"{table} row {pk}"))
                except DecryptionError as exc:
                    raise CommandError(str(exc)) from None
                if wanted != stored:
                    updates.append([wanted, pk])
            if updates:
                cursor.executemany(
                    f"UPDATE {quote(table)} SET {quote('customer_email_hash')} = %s "  # noqa: S608
                    f"WHERE {quote('id')} = %s",
                    updates,
                )
            return len(updates)

        columns = ["customer_email", "customer_email_hash"]
        where = f"{quote('customer_email')} <> ''"
        return self._each_batch(table, "id", columns, rehash_rows, where=where)


def _rotate_mfa_data(data: dict[str, Any]) -> dict[str, Any]:
    """allauth's authenticator data with each encrypted value rotated: ``secret`` (TOTP),
    ``seed`` and ``migrated_codes`` (recovery codes); other keys and types as they are."""
    rotated = dict(data)
    for key in ("secret", "seed"):
        if isinstance(rotated.get(key), str) and rotated[key]:
            rotated[key] = rotate(rotated[key])
    if isinstance(rotated.get("migrated_codes"), list):
        rotated["migrated_codes"] = [rotate(code) for code in rotated["migrated_codes"]]
    return rotated
