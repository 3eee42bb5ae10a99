"""Triggers that tell every process a cached table changed (core/invalidation.py).

PostgreSQL only: SQLite has no notices, and nothing is cached there."""

from django.db import migrations

# As core/invalidation.py names them then (a migration keeps its own copy).
CHANNEL = "refunddesk_changed"
TABLES = ("api_apikey", "policies_policyversion", "calendars_calendarchange",
          "notifications_webhookendpoint")

FUNCTION = f"""
CREATE OR REPLACE FUNCTION refunddesk_notify_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER refunddesk_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION refunddesk_notify_changed()")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS refunddesk_changed ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS refunddesk_notify_changed()")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_staff_role_changes"),
        ("api", "0002_idempotency_keys"),
        ("calendars", "0001_business_calendars"),
        ("policies", "0003_policy_simulation"),
        ("notifications", "0011_compensation_notices"),
    ]

    operations = [migrations.RunPython(create, drop)]
