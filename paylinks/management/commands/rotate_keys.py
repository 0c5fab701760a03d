"""``manage.py rotate_keys``: re-encrypt every stored customer field under the first key.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (keeping the old ones after it),
deploy, run this command, then remove the old keys. Values are rotated in the database
without passing through model code, in batches, each batch in its own transaction, so
the command can be stopped and run again safely.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from paylinks.crypto import DecryptionError, configured_keys, encrypted_columns, rotate

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt customer data under the first key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        keys = configured_keys()
        self.stdout.write(f"Rotating to key 1 of {len(keys)}.")
        total = 0
        for model, columns in encrypted_columns():
            count = self._rotate_table(model._meta.db_table, str(model._meta.pk.column), columns)
            self.stdout.write(f"  {model._meta.label}: {count} row(s)")
            total += count
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} row(s)."))

    def _rotate_table(self, table: str, pk: str, columns: list[str]) -> int:
        quote = connection.ops.quote_name
        select_cols = ", ".join(quote(c) for c in [pk, *columns])
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        last: Any = None
        done = 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = "" if last is None else f"WHERE {quote(pk)} > %s"
                cursor.execute(
                    f"SELECT {select_cols} FROM {quote(table)} {where} "  # noqa: S608
                    f"ORDER BY {quote(pk)} LIMIT {BATCH}",
                    [] if last is None else [last],
                )
                rows = cursor.fetchall()
                for row in rows:
                    try:
                        values = [rotate(v) if v else v for v in row[1:]]  # blanks stay blank
                    except DecryptionError as exc:
                        raise CommandError(f"{table} row {row[0]}: {exc}") from None
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s",  # noqa: S608
                        [*values, row[0]],
                    )
            if not rows:
                return done
            done += len(rows)
            last = rows[-1][0]
