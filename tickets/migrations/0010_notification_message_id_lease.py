"""Notifications keep one Message-ID across attempts and are claimed by a lease
(tickets.outbox). Rows that may still be sent (pending, failed) get their
Message-ID here, each its own; rows already sent keep a blank one. The column
is added with a constant default (no table rewrite); the database's own default,
for rows written without one, is set afterwards."""

from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import migrations, models

import tickets.models


def message_ids(apps, schema_editor):
    Notification = apps.get_model("tickets", "Notification")
    unsent = Notification.objects.filter(status__in=("pending", "failed"), message_id="").order_by("pk")
    while batch := list(unsent.values_list("pk", flat=True)[:1000]):
        rows = [Notification(pk=pk, message_id=make_msgid(domain=DNS_NAME)) for pk in batch]
        Notification.objects.bulk_update(rows, ["message_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_admin_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="leased_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="leased until"),
        ),
        migrations.AddField(
            model_name="notification",
            name="message_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=255, verbose_name="Message-ID"),
        ),
        migrations.RunPython(message_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="message_id",
            field=models.CharField(
                blank=True,
                db_default=models.Func(
                    models.Value("<"),
                    models.Func(function="gen_random_uuid"),
                    models.Value("@cs-desk.outbox>"),
                    function="CONCAT",
                    output_field=models.CharField(),
                ),
                default=tickets.models.message_id_new,
                editable=False,
                max_length=255,
                verbose_name="Message-ID",
            ),
        ),
    ]
