"""Webhook endpoints renew the configuration stamp (tickets.config_cache) when one
is added, removed, switched on or off, or its events change; the fan-out's own
bookkeeping (the catch-up cursor) does not."""

from django.db import migrations

TRIGGER = "integrations_webhookendpoint_config_changed"


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_staff_api_token_in_accounts"),
        ("tickets", "0020_config_stamp"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OF is_active, events, created_at OR DELETE OR TRUNCATE "
            "ON integrations_webhookendpoint FOR EACH STATEMENT EXECUTE FUNCTION tickets_config_changed();",
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON integrations_webhookendpoint;",
        ),
    ]
