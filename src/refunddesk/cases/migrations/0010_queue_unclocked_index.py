"""The queue's default order ends, per state, with the cases without a due time (waiting
for the customer, decided), oldest first: a partial (state, submitted_at, id) index of
those cases lets that range be read in order instead of sorted."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_service_ends"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="refundcase",
            index=models.Index(condition=models.Q(("sla_due_at__isnull", True)),
                               fields=["state", "submitted_at", "id"],
                               name="case_queue_state_unclocked"),
        ),
    ]
