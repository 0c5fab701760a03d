"""A keyed hash of each payment's customer e-mail beside the encrypted e-mail, so support
can find a customer's payments by exact e-mail without decrypting every row.

Existing payments are hashed here, in batches: each e-mail is decrypted once and hashed
with the current search key (paylinks.crypto). ``manage.py rotate_keys`` recomputes the
same hashes later, so an interrupted backfill is repaired by running it.
"""

from django.db import migrations, models

import paylinks.crypto
from paylinks.crypto import decrypt, email_search_hash

BATCH = 1000


def backfill(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    connection = schema_editor.connection
    q = connection.ops.quote_name
    table = q(apps.get_model("paylinks", "Payment")._meta.db_table)
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, customer_email FROM {table} "  # noqa: S608
                f"WHERE id > %s AND customer_email <> '' ORDER BY id LIMIT {BATCH}",
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            hashes = [
                (email_search_hash(decrypt(token, where="paylinks.Payment.customer_email")), pk)
                for pk, token in rows
            ]
            cursor.executemany(
                f"UPDATE {table} SET customer_email_hash = %s WHERE id = %s",  # noqa: S608
                hashes,
            )
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("paylinks", "0008_webhook_event_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="customer_email_hash",
            field=paylinks.crypto.EmailSearchHashField(
                blank=True, default="", editable=False, max_length=64, source="customer_email"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("customer_email_hash", ""), _negated=True),
                fields=["customer_email_hash"],
                name="payment_customer_email_hash",
            ),
        ),
    ]
