"""Trigram indexes for the console queue's search (console/queueing.py `search_condition`):
any part of a customer's name, e-mail or phone, or of an order id, found in milliseconds
among a million rows. PostgreSQL only: pg_trgm is a trusted extension (the database owner
may create it), and SQLite reads the table instead, correct and slower.

Each index is on exactly the expression the queue's query compares: Django's `icontains`
is `UPPER(column::text) LIKE UPPER(...)` on PostgreSQL, and the phone is compared without
spaces and hyphens (`queueing.phone_digits`)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "billing_account_name_trgm": "billing_account USING gin (UPPER(name::text) gin_trgm_ops)",
    "billing_account_email_trgm":
        "billing_account USING gin (UPPER(email::text) gin_trgm_ops)",
    "billing_account_phone_trgm": "billing_account USING gin "
                                  "((REPLACE(REPLACE(phone::text, ' ', ''), '-', '')) "
                                  "gin_trgm_ops)",
    "billing_order_external_id_trgm":
        "billing_order USING gin (UPPER(external_id::text) gin_trgm_ops)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0003_ordering_by_column"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
