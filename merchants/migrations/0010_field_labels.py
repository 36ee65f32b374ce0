"""Translatable names for the fields the admin showed in English (issue 22): no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_field_labels"),
        ("merchants", "0009_merchant_scorecard"),
        ("tickets", "0026_field_labels_notification_kinds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="merchantdocument",
            name="content_type",
            field=models.CharField(blank=True, max_length=100, verbose_name="type"),
        ),
        migrations.AlterField(
            model_name="merchantdocument",
            name="merchant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="documents",
                to="accounts.merchant",
                verbose_name="merchant",
            ),
        ),
        migrations.AlterField(
            model_name="merchantpenalty",
            name="merchant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="penalties",
                to="accounts.merchant",
                verbose_name="merchant",
            ),
        ),
        migrations.AlterField(
            model_name="merchantscore",
            name="merchant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="scores",
                to="accounts.merchant",
                verbose_name="merchant",
            ),
        ),
        migrations.AlterField(
            model_name="merchantstrike",
            name="merchant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="strikes",
                to="accounts.merchant",
                verbose_name="merchant",
            ),
        ),
        migrations.AlterField(
            model_name="merchantstrike",
            name="target",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="merchant_strike",
                to="tickets.slatarget",
                verbose_name="SLA target",
            ),
        ),
        migrations.AlterField(
            model_name="merchantstrike",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="merchant_strikes",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
    ]
