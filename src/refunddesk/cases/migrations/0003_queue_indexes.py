"""Indexes of the console queue: each state in each sort order (submitted, SLA due,
amount), with the id last so keyset pagination reads an index range and never sorts.
(state, submitted_at, id) replaces (state, submitted_at), of which it is an extension."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0002_console_decisions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="refundcase",
            index=models.Index(fields=["state", "submitted_at", "id"],
                               name="case_queue_state_submitted"),
        ),
        migrations.RemoveIndex(
            model_name="refundcase",
            name="cases_refun_state_d92451_idx",
        ),
        migrations.AddIndex(
            model_name="refundcase",
            index=models.Index(fields=["state", "sla_due_at", "id"],
                               name="case_queue_state_due"),
        ),
        migrations.AddIndex(
            model_name="refundcase",
            index=models.Index(fields=["state", "assessed_total_minor", "id"],
                               name="case_queue_state_amount"),
        ),
    ]
