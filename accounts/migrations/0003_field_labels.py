"""Translatable names for the fields the admin showed in English (issue 22): no SQL."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="key_hash",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="SHA-256 of the key"),
        ),
        migrations.AlterField(
            model_name="merchantuser",
            name="merchant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="users",
                to="accounts.merchant",
                verbose_name="merchant",
            ),
        ),
        migrations.AlterField(
            model_name="merchantuser",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="merchant_link",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
    ]
