"""Outgoing webhook events are pruned after PAYLINKS_OUTGOING_RETENTION_DAYS once every
delivery finished: an index over their creation time, so the sweeper's oldest-first
search for them reads a range instead of the whole outbox."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("paylinks", "0017_link_units_sold"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="outgoingevent",
            index=models.Index(fields=["created_at"], name="outevent_created"),
        ),
    ]
