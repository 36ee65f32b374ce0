"""The merchant party moves here from the merchants app: Merchant and
MerchantUser enter this app's state; their tables (merchants_merchant,
merchants_merchantuser) and rows stay where they are. merchants 0004 takes them
out of the merchants app's state and moves their content types, so
permissions, groups and admin history follow."""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The tables exist, with every column below, from the merchants app's migrations.
        ("merchants", "0003_merchant_standing_penalties_signals_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Merchant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("shop_id", models.CharField(max_length=32, unique=True, verbose_name="shop id")),
                ("name", models.CharField(db_index=True, max_length=200, verbose_name="shop name")),
                ("legal_entity", models.CharField(blank=True, max_length=200, verbose_name="legal entity")),
                ("contact_name", models.CharField(blank=True, max_length=100, verbose_name="contact name")),
                ("contact_phone", models.CharField(blank=True, max_length=20, verbose_name="contact phone")),
                ("contact_email", models.EmailField(blank=True, max_length=254, verbose_name="contact email")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="registered")),
                (
                    "verification",
                    models.CharField(
                        choices=[("pending", "Pending review"), ("verified", "Verified"), ("rejected", "Rejected")],
                        default="pending",
                        max_length=10,
                        verbose_name="verification",
                    ),
                ),
                ("verification_note", models.TextField(blank=True, verbose_name="verification note")),
                ("verified_at", models.DateTimeField(blank=True, null=True, verbose_name="reviewed at")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("active", "Active"),
                            ("warned", "Warned"),
                            ("restricted", "Restricted"),
                            ("suspended", "Suspended"),
                            ("removed", "Removed"),
                        ],
                        default="active",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "suspended",
                    models.BooleanField(
                        default=False,
                        help_text="A suspension stays until an administrator lifts it, whatever the score.",
                        verbose_name="suspended by an administrator",
                    ),
                ),
                ("search_demoted", models.BooleanField(default=False, verbose_name="demoted in search ranking")),
                ("promotions_excluded", models.BooleanField(default=False, verbose_name="excluded from promotions")),
                (
                    "score",
                    models.DecimalField(decimal_places=1, default=Decimal("100.0"), max_digits=5, verbose_name="score"),
                ),
                ("score_updated_at", models.DateTimeField(blank=True, null=True, verbose_name="score computed")),
                (
                    "verified_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reviewed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "merchant",
                "verbose_name_plural": "merchants",
                "db_table": "merchants_merchant",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="MerchantUser",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "merchant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="users", to="accounts.merchant"
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="merchant_link",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "merchant user",
                "verbose_name_plural": "merchant users",
                "db_table": "merchants_merchantuser",
            },
        ),
    ]

    # State only: the tables are the merchants app's, unchanged.
    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
