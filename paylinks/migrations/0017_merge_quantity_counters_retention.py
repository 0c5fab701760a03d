"""Joins the branches of 2026-12-02 (quantities, the links' counter, outgoing event
retention, product images) and recounts the links' ``units_sold`` by quantity, now that
both the counter and ``Payment.quantity`` exist."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("paylinks", "0016_link_completed_counter"),
        ("paylinks", "0016_link_quantity"),
        ("paylinks", "0016_outgoing_event_retention"),
    ]

    operations = [
        migrations.RunSQL(
            "UPDATE paylinks_paymentlink SET units_sold = ("
            "SELECT COALESCE(SUM(p.quantity), 0) FROM paylinks_payment p "
            "WHERE p.link_id = paylinks_paymentlink.id "
            "AND p.status IN ('succeeded', 'partially_refunded', 'refunded'))",
            migrations.RunSQL.noop,
        ),
    ]
