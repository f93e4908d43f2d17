"""Deliveries become jobs (remag/jobs.py): the job machine's field names, no row lost.

attempt_count -> attempts, next_attempt_at -> enqueued_at, last_error -> error and
delivered_at -> finished_at are renamed in place. ``leased_until`` (when the lease ends)
becomes ``heartbeat_at`` (when it was taken): the lease then was the timeout plus 30 s.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models


def lease_to_heartbeat(apps, schema_editor):
    Delivery = apps.get_model("webhooks", "Delivery")
    lease = timedelta(seconds=settings.REMAG_WEBHOOK_TIMEOUT_SECONDS + 30)
    for delivery in Delivery.objects.filter(leased_until__isnull=False).only("id", "leased_until"):
        Delivery.objects.filter(id=delivery.id).update(heartbeat_at=delivery.leased_until - lease)


def heartbeat_to_lease(apps, schema_editor):
    Delivery = apps.get_model("webhooks", "Delivery")
    lease = timedelta(seconds=settings.REMAG_WEBHOOK_TIMEOUT_SECONDS + 30)
    for delivery in Delivery.objects.filter(heartbeat_at__isnull=False).only("id", "heartbeat_at"):
        Delivery.objects.filter(id=delivery.id).update(leased_until=delivery.heartbeat_at + lease)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="deliveryattempt",
            name="delivery",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE,
                related_name="attempt_records",
                to="webhooks.delivery",
            ),
        ),
        migrations.RenameField("delivery", "attempt_count", "attempts"),
        migrations.RenameField("delivery", "next_attempt_at", "enqueued_at"),
        migrations.RenameField("delivery", "last_error", "error"),
        migrations.RenameField("delivery", "delivered_at", "finished_at"),
        migrations.AddField(
            model_name="delivery",
            name="heartbeat_at",
            field=models.DateTimeField(
                blank=True, help_text="Set while a worker holds the job.", null=True
            ),
        ),
        migrations.RunPython(lease_to_heartbeat, heartbeat_to_lease),
        migrations.RemoveField("delivery", "leased_until"),
        migrations.RemoveIndex(model_name="delivery", name="delivery_due"),
        migrations.AddField(
            model_name="delivery",
            name="failures",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="Attempts that ended with an error."
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="holder",
            field=models.CharField(
                blank=True, editable=False, help_text="The task holding the job.", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="attempts",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="Times a worker started the job (takeovers included)."
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="enqueued_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the job was last sent to the broker, or when its retry is due.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="delivery", name="error", field=models.TextField(blank=True)
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["status", "enqueued_at"], name="delivery_due"),
        ),
        # Failed deliveries of old had no end time; their last attempt is the best one known.
        migrations.RunSQL(
            """
            UPDATE webhooks_delivery SET finished_at = (
                SELECT max(at) FROM webhooks_deliveryattempt
                WHERE delivery_id = webhooks_delivery.id
            ) WHERE status = 'failed' AND finished_at IS NULL
            """,
            migrations.RunSQL.noop,
        ),
    ]
