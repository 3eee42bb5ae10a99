"""A run is claimed as every outbox row is (core/leasing.py): its lease and claim count take
the names those rows have."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("compensation", "0001_initial"),
    ]

    operations = [
        migrations.RenameField("compensationrun", "lease_until", "next_attempt_at"),
        migrations.RenameField("compensationrun", "claims", "attempts"),
        migrations.AlterField(
            model_name="compensationrun",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next attempt at"),
        ),
        migrations.AlterField(
            model_name="compensationrun",
            name="attempts",
            field=models.PositiveIntegerField(default=0, verbose_name="attempts"),
        ),
        # The index names the field, not the column: made again under the new name (a
        # table of a few rows a run).
        migrations.RemoveIndex("compensationrun", "compensation_due"),
        migrations.AddIndex(
            "compensationrun",
            models.Index(fields=["state", "next_attempt_at"], name="compensation_due"),
        ),
    ]
