"""Ticket.merchant points at accounts.Merchant, where the merchant moved
(accounts 0001). State only: the column and its foreign key constraint already
point at the same table, merchants_merchant."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0011_requester_phone_e164"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="merchant",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="accounts.merchant",
                        verbose_name="merchant",
                    ),
                ),
            ]
        )
    ]
