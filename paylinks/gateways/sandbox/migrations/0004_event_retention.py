"""Delivered sandbox events are pruned after PAYLINKS_WEBHOOK_RETENTION_DAYS: an index
over just those, by when they were delivered."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0003_event_payload_encrypted"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="sandboxevent",
            index=models.Index(
                condition=models.Q(("delivered_at__isnull", False)),
                fields=["delivered_at"],
                name="sbx_event_delivered",
            ),
        ),
    ]
