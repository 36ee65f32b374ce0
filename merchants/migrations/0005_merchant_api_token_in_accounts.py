"""Merchant keys live in accounts.ApiKey now (accounts 0002 copied them
there): the old table goes, and MerchantApiToken stays as the admin's view of
the shops' keys (a proxy, with the same content type and permissions)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key"),
        ("merchants", "0004_merchant_to_accounts"),
    ]

    operations = [
        migrations.DeleteModel(name="MerchantApiToken"),
        migrations.CreateModel(
            name="MerchantApiToken",
            fields=[],
            options={
                "verbose_name": "merchant API token",
                "verbose_name_plural": "merchant API tokens",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("accounts.apikey",),
        ),
    ]
