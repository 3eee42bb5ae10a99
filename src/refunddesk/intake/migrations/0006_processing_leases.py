from django.db import migrations, models
from django.db.models import F


def due_when_received(apps, schema_editor):
    """Messages still waiting to be processed are due since they arrived."""
    InboundMail = apps.get_model("intake", "InboundMail")
    InboundMail.objects.filter(state="received").update(next_attempt_at=F("received_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0005_triage_claim'),
    ]

    operations = [
        migrations.AddField(
            model_name='inboundmail',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='inboundmail',
            index=models.Index(condition=models.Q(('next_attempt_at__isnull', False)), fields=['next_attempt_at'], name='inbound_mail_due'),
        ),
        migrations.RunPython(due_when_received, migrations.RunPython.noop),
    ]
