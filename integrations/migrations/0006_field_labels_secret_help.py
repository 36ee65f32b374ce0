"""Translatable names for the fields the admin showed in English, and the signing secret's
help with the header name marked as code (issue 22): no SQL."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

import integrations.models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_endpoint_config_stamp"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookattempt",
            name="delivery",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempt_log",
                to="integrations.webhookdelivery",
                verbose_name="webhook delivery",
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="delivery ID"),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="catch_up_mark",
            field=models.BigIntegerField(blank=True, editable=False, null=True, verbose_name="catch-up mark"),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="catch_up_mark_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="catch-up mark set"),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="caught_up_to",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, verbose_name="caught up to ticket event"
            ),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=models.CharField(
                default=integrations.models._secret,
                help_text="The receiver verifies each delivery's <code>webhook-signature</code> header with exactly this text (Standard Webhooks). Keep it secret.",
                max_length=600,
                verbose_name="signing secret",
            ),
        ),
    ]
