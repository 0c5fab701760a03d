"""Finished inbox events are pruned after PAYLINKS_WEBHOOK_RETENTION_DAYS: an index over
just those, by when they finished, so the sweeper finds the oldest without a scan."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("paylinks", "0007_webhook_payload_encrypted"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status__in", ["processed", "ignored"])),
                fields=["processed_at"],
                name="webhook_finished",
            ),
        ),
    ]
