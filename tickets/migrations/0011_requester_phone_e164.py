"""Consumers' phone numbers stored in E.164, as tickets.phones now stores every
new one (+8613812345678): rows filed before were kept as typed. A number that
cannot be parsed stays as it was (it still masks and matches as typed)."""

import phonenumbers
from django.db import migrations

BATCH = 2000


def to_e164(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    rows = Ticket.objects.exclude(requester_phone="").exclude(requester_phone__startswith="+")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", "requester_phone")[:BATCH])
        if not batch:
            return
        changed = []
        for pk, phone in batch:
            try:
                number = phonenumbers.parse(phone, "CN")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                changed.append(
                    Ticket(
                        pk=pk, requester_phone=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                    )
                )
        Ticket.objects.bulk_update(changed, ["requester_phone"])
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_notification_message_id_lease")]

    operations = [migrations.RunPython(to_e164, migrations.RunPython.noop)]
