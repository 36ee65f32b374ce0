"""A merchant's appeal of a penalty, with its own state (open, upheld,
revoked); one open per penalty."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key"),
        ("merchants", "0006_strike_reason_code"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MerchantAppeal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("body", models.TextField(verbose_name="the merchant's case")),
                (
                    "source",
                    models.CharField(
                        choices=[("portal", "Merchant portal"), ("email", "Email")],
                        max_length=10,
                        verbose_name="filed through",
                    ),
                ),
                ("from_address", models.EmailField(blank=True, max_length=254, verbose_name="from address")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open, awaiting a decision"),
                            ("upheld", "Penalty upheld"),
                            ("revoked", "Penalty revoked"),
                        ],
                        default="open",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="decided")),
                ("decision_note", models.TextField(blank=True, verbose_name="decision note")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="filed")),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "filed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="filed by",
                    ),
                ),
                (
                    "merchant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="appeals",
                        to="accounts.merchant",
                        verbose_name="merchant",
                    ),
                ),
                (
                    "penalty",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="appeals",
                        to="merchants.merchantpenalty",
                        verbose_name="penalty",
                    ),
                ),
            ],
            options={
                "verbose_name": "penalty appeal",
                "verbose_name_plural": "penalty appeals",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "open")), fields=("penalty",), name="one_open_appeal_per_penalty"
                    )
                ],
            },
        ),
    ]
