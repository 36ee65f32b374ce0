"""The configuration stamp (tickets.config_cache): one row, renewed by a trigger
on every write to the SLA policies, the business calendars and the alert words."""

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION tickets_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tickets_configstamp (id, stamp) VALUES (1, gen_random_uuid())
    ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    RETURN NULL;
END
$$;
INSERT INTO tickets_configstamp (id, stamp) VALUES (1, gen_random_uuid());
"""
TABLES = ("tickets_slapolicy", "tickets_businesscalendar", "feedback_alertkeyword")


def trigger(table):
    return migrations.RunSQL(
        f"CREATE TRIGGER {table}_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION tickets_config_changed();",
        f"DROP TRIGGER IF EXISTS {table}_config_changed ON {table};",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0019_reply_to_and_mail_thread"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("stamp", models.UUIDField()),
            ],
            options={
                "verbose_name": "configuration stamp",
                "verbose_name_plural": "configuration stamps",
                "default_permissions": (),
            },
        ),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS tickets_config_changed();"),
        *(trigger(table) for table in TABLES),
    ]
