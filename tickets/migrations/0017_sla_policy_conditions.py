"""SLA policies chosen by conditions (issue 18): an ordered list, each with
conditions on priority, channel, category, team and merchant. The policies
there were, one per priority and nothing else, become the fallbacks."""

import django.db.models.deletion
from django.db import migrations, models


def mark_fallbacks(apps, schema_editor):
    SLAPolicy = apps.get_model("tickets", "SLAPolicy")
    SLAPolicy.objects.exclude(priority="").update(is_fallback=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key"),
        ("tickets", "0016_official_years_help_statutory_fallback"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="slapolicy",
            options={
                "ordering": ["is_fallback", "position", "id"],
                "verbose_name": "SLA policy",
                "verbose_name_plural": "SLA policies",
            },
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="category",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tickets.category",
                verbose_name="category",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="channel",
            field=models.CharField(
                blank=True,
                choices=[("web", "Web form"), ("email", "Email"), ("phone", "Phone"), ("chat", "Chat"), ("app", "App")],
                max_length=10,
                verbose_name="channel",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="is_fallback",
            field=models.BooleanField(default=False, editable=False, verbose_name="fallback for its priority"),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="merchant",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.merchant",
                verbose_name="merchant",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="name",
            field=models.CharField(blank=True, max_length=100, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="position",
            field=models.PositiveIntegerField(
                default=100,
                help_text="Policies with conditions are tried from the lowest number up.",
                verbose_name="matching order",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tickets.team",
                verbose_name="team",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="priority",
            field=models.CharField(
                blank=True,
                choices=[("low", "Low"), ("normal", "Normal"), ("urgent", "Urgent")],
                max_length=10,
                verbose_name="priority",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="updated at"),
        ),
        migrations.RunPython(mark_fallbacks, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="slapolicy",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_fallback", True)), fields=("priority",), name="one_fallback_policy_per_priority"
            ),
        ),
    ]
