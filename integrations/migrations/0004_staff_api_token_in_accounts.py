"""Staff keys live in accounts.ApiKey now (accounts 0002 copied them there):
the old table goes, and StaffApiToken stays as the admin's view of the staff
keys (a proxy, with the same content type and permissions)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key"),
        ("integrations", "0003_webhook_lease_ticket_event_catch_up"),
    ]

    operations = [
        migrations.DeleteModel(name="StaffApiToken"),
        migrations.CreateModel(
            name="StaffApiToken",
            fields=[],
            options={
                "verbose_name": "staff API token",
                "verbose_name_plural": "staff API tokens",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("accounts.apikey",),
        ),
    ]
