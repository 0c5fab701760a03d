"""On PostgreSQL, refuse UPDATE and DELETE on the audit trail at the database level."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION paylinks_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'paylinks_auditentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER paylinks_audit_append_only
    BEFORE UPDATE OR DELETE ON paylinks_auditentry
    FOR EACH ROW EXECUTE FUNCTION paylinks_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS paylinks_audit_append_only ON paylinks_auditentry;
DROP FUNCTION IF EXISTS paylinks_audit_append_only();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("paylinks", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
