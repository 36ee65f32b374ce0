"""Webhook deliveries are claimed by a lease (tickets.outbox) and written from the
ticket events they tell of, once each (integrations.fanout). Existing endpoints
start their catch-up after today's last event: until now every delivery was
written in the transaction of its event, so none is missing."""

import django.db.models.deletion
from django.db import migrations, models


def caught_up(apps, schema_editor):
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    WebhookEndpoint = apps.get_model("integrations", "WebhookEndpoint")
    last = TicketEvent.objects.aggregate(last=models.Max("pk"))["last"] or 0
    WebhookEndpoint.objects.update(caught_up_to=last)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_webhook_secret_standard_webhooks"),
        ("tickets", "0009_admin_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="leased_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="leased until"),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="ticket_event",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tickets.ticketevent",
                verbose_name="ticket event",
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="catch_up_mark",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="catch_up_mark_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="caught_up_to",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ticket_event__isnull", False)),
                fields=("ticket_event", "endpoint", "event"),
                name="webhook_one_per_ticket_event",
            ),
        ),
        migrations.RunPython(caught_up, migrations.RunPython.noop),
    ]
