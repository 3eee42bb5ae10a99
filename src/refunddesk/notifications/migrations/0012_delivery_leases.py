from django.db import migrations, models
from django.db.models import F


def due_when_created(apps, schema_editor):
    """Deliveries still to be sent are due since they were written (a webhook delivery not
    yet tried had no time at all: it is due since it was created)."""
    EmailDelivery = apps.get_model("notifications", "EmailDelivery")
    EmailDelivery.objects.filter(status="queued").update(next_attempt_at=F("created_at"))
    WebhookDelivery = apps.get_model("notifications", "WebhookDelivery")
    WebhookDelivery.objects.filter(state="pending", next_attempt_at__isnull=True).update(
        next_attempt_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0011_compensation_notices'),
    ]

    operations = [
        migrations.AddField(
            model_name='emaildelivery',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='next attempt'),
        ),
        migrations.AddIndex(
            model_name='emaildelivery',
            index=models.Index(condition=models.Q(('next_attempt_at__isnull', False)), fields=['next_attempt_at'], name='email_delivery_due'),
        ),
        migrations.AddIndex(
            model_name='webhookdelivery',
            index=models.Index(condition=models.Q(('next_attempt_at__isnull', False)), fields=['next_attempt_at'], name='webhook_delivery_due'),
        ),
        migrations.RunPython(due_when_created, migrations.RunPython.noop),
    ]
