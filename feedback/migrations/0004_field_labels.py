"""Translatable names for the fields the admin showed in English (issue 22): no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_alert_keyword_to_tickets"),
        ("tickets", "0026_field_labels_notification_kinds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="keywordhit",
            name="feedback",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="keyword_hits",
                to="feedback.feedback",
                verbose_name="feedback",
            ),
        ),
        migrations.AlterField(
            model_name="keywordhit",
            name="keyword",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="hits",
                to="tickets.alertkeyword",
                verbose_name="alert keyword",
            ),
        ),
        migrations.AlterField(
            model_name="keywordhit",
            name="ticket",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="keyword_hits",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="survey",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="surveys",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
    ]
