"""The defaults DESIGN.md describes: China's working-day calendar (09:00–18:00,
seeded from chinesecalendar), one SLA policy per priority, and the staff role
groups. Administrators edit all of it afterwards."""

import datetime

from django.db import migrations

from tickets.china import DEFAULT_CALENDAR_NAME, china_calendar_seed

POLICIES = [
    # priority, first response, next response, resolution (amount, unit, clock)
    ("urgent", (24, "hours", "calendar"), (24, "hours", "calendar"), (72, "hours", "calendar")),
    ("normal", (3, "days", "business"), (3, "days", "business"), (10, "days", "business")),
    ("low", (5, "days", "business"), (5, "days", "business"), (15, "days", "business")),
]


def forwards(apps, schema_editor):
    BusinessCalendar = apps.get_model("tickets", "BusinessCalendar")
    WorkingPeriod = apps.get_model("tickets", "WorkingPeriod")
    CalendarDay = apps.get_model("tickets", "CalendarDay")
    SLAPolicy = apps.get_model("tickets", "SLAPolicy")
    Group = apps.get_model("auth", "Group")

    calendar, created = BusinessCalendar.objects.get_or_create(
        name=DEFAULT_CALENDAR_NAME, defaults={"time_zone": "Asia/Shanghai", "is_default": True}
    )
    if created:
        WorkingPeriod.objects.create(calendar=calendar, opens=datetime.time(9), closes=datetime.time(18))
    china_calendar_seed(calendar=calendar, day_model=CalendarDay)

    for priority, first, following, resolution in POLICIES:
        values = {"calendar": calendar}
        for name, (amount, unit, clock) in (
            ("first_response", first),
            ("next_response", following),
            ("resolution", resolution),
        ):
            values.update({f"{name}_amount": amount, f"{name}_unit": unit, f"{name}_clock": clock})
        values.update({"merchant_reply_amount": 24, "merchant_reply_unit": "hours", "merchant_reply_clock": "calendar"})
        SLAPolicy.objects.get_or_create(priority=priority, defaults=values)

    for name in ("agents", "supervisors", "managers"):
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
