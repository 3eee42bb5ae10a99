"""Trigram indexes for the console queue's search (console/queueing.py `search_condition`):
any part of a customer's name, e-mail or phone, or of an order id, found in milliseconds
among a million rows. PostgreSQL only: pg_trgm is a trusted extension (the database owner
may create it), and SQLite reads the table instead, correct and slower.

Each index is on exactly the expression the queue's query compares: Django's `icontains`
is `UPPER(column::text) LIKE UPPER(...)` on PostgreSQL, and the phone is compared without
spaces and hyphens (`queueing.phone_digits`).

A trigram index cannot answer a search shorter than three characters, and a Chinese name
is often two ("周平"): PostgreSQL would read every account. Names therefore also have an
index of their one- and two-character pieces (`refunddesk_short_grams`, upper-cased), which
such a search looks up instead (`queueing.SHORT_SEARCH`)."""

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


# Every piece of one and two characters of the upper-cased text, each once.
SHORT_GRAMS = """
CREATE OR REPLACE FUNCTION refunddesk_short_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(upper(value), i, n)), '{}')
  FROM generate_series(1, 2) AS n, generate_series(1, char_length(value) - n + 1) AS i
$$
"""
INDEXES["billing_account_name_grams"] = (
    "billing_account USING gin (refunddesk_short_grams(name::text))")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(SHORT_GRAMS)
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS refunddesk_short_grams(text)")


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0003_ordering_by_column"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
