"""The sandbox's outbox payloads carry customer e-mails, names and addresses: store them
encrypted with the customer-data key (one Fernet token of the JSON text per row).

The column becomes text (PostgreSQL: ``jsonb`` cast to its text), then every row still
holding JSON is encrypted, in batches. Reversing decrypts every row back to JSON text
before the column becomes ``jsonb`` again. Either way a row already in the wanted form is
left alone, so a run that was interrupted can be repeated.
"""

from django.db import migrations

import paylinks.crypto
from paylinks.crypto import decrypt, encrypt

TABLE, PK, COLUMN = "sandbox_sandboxevent", "id", "payload"
BATCH = 500


def _is_json(value: str) -> bool:
    return value.lstrip().startswith(("{", "["))


def rewrite(schema_editor, convert) -> None:  # type: ignore[no-untyped-def]
    """Pass every value of the column through ``convert`` (None: leave it), by primary key."""
    connection = schema_editor.connection
    q = connection.ops.quote_name
    last = None
    while True:
        with connection.cursor() as cursor:
            after = "" if last is None else f"WHERE {q(PK)} > %s"
            cursor.execute(
                f"SELECT {q(PK)}, {q(COLUMN)} FROM {q(TABLE)} {after} "  # noqa: S608
                f"ORDER BY {q(PK)} LIMIT {BATCH}",
                [] if last is None else [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            changed = [(new, pk) for pk, value in rows if (new := convert(value)) is not None]
            if changed:
                cursor.executemany(
                    f"UPDATE {q(TABLE)} SET {q(COLUMN)} = %s WHERE {q(PK)} = %s",  # noqa: S608
                    changed,
                )
        last = rows[-1][0]


def encrypt_payloads(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    rewrite(schema_editor, lambda value: encrypt(value) if value and _is_json(value) else None)


def decrypt_payloads(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    where = "sandbox.SandboxEvent.payload"
    rewrite(
        schema_editor,
        lambda value: decrypt(value, where=where) if value and not _is_json(value) else None,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0002_strict_encrypted_fields"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sandboxevent",
            name="payload",
            field=paylinks.crypto.EncryptedJSONField(),
        ),
        migrations.RunPython(encrypt_payloads, decrypt_payloads, elidable=False),
    ]
