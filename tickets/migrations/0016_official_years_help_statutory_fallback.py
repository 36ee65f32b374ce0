"""The help text of a calendar's official years says what the other years do now:
the statutory holidays and their 补假, provisionally (tickets.sla.statutory), not
plain weekends. No database change."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0015_sla_target_promise"),
    ]

    operations = [
        migrations.AlterField(
            model_name="businesscalendar",
            name="official_years",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.PositiveSmallIntegerField(),
                blank=True,
                default=list,
                help_text="Other years count the statutory holidays and 补假, provisionally, plus the days entered by hand.",
                size=None,
                verbose_name="years with the official schedule loaded",
            ),
        ),
    ]
