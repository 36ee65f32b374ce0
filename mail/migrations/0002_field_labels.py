"""Translatable names for the fields the admin showed in English (issue 22): no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0001_initial"),
        ("tickets", "0026_field_labels_notification_kinds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inboundmail",
            name="key",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="key"),
        ),
        migrations.AlterField(
            model_name="inboundmail",
            name="message",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="inbound_mail",
                to="tickets.message",
                verbose_name="message",
            ),
        ),
        migrations.AlterField(
            model_name="inboundmail",
            name="ticket",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="inbound_mails",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
    ]
