"""A calendar day names its festival by a code, rendered in the reader's
language, instead of chinesecalendar's English name: the official rows'
names become codes (and their names empty). Days an administrator entered keep
their names. Reversible: back to the package's English names."""

from django.db import migrations, models

# chinesecalendar's names and our codes (tickets.sla.festivals.PACKAGE_NAMES), as
# they were when this migration was written.
PACKAGE_NAMES = {
    "New Year's Day": "new_year",
    "Spring Festival": "spring_festival",
    "Tomb-sweeping Day": "tomb_sweeping",
    "Labour Day": "labour_day",
    "Dragon Boat Festival": "dragon_boat",
    "Mid-autumn Festival": "mid_autumn",
    "National Day": "national_day",
    "Anti-Fascist 70th Day": "anti_fascist_70th",
}


def names_to_codes(apps, schema_editor):
    CalendarDay = apps.get_model("tickets", "CalendarDay")
    days = CalendarDay.objects.using(schema_editor.connection.alias)
    for name, code in PACKAGE_NAMES.items():
        days.filter(source="official", name=name).update(festival=code, name="")


def codes_to_names(apps, schema_editor):
    CalendarDay = apps.get_model("tickets", "CalendarDay")
    days = CalendarDay.objects.using(schema_editor.connection.alias)
    for name, code in PACKAGE_NAMES.items():
        # A name an administrator typed on a festival's day is theirs: kept.
        days.filter(festival=code, name="").update(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0013_alert_keyword_in_tickets"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarday",
            name="festival",
            field=models.CharField(
                blank=True,
                choices=[
                    ("new_year", "New Year's Day"),
                    ("spring_festival", "Spring Festival"),
                    ("tomb_sweeping", "Qingming Festival"),
                    ("labour_day", "Labour Day"),
                    ("dragon_boat", "Dragon Boat Festival"),
                    ("mid_autumn", "Mid-Autumn Festival"),
                    ("national_day", "National Day"),
                    ("anti_fascist_70th", "70th anniversary of the victory over fascism"),
                ],
                max_length=30,
                verbose_name="festival",
            ),
        ),
        migrations.RunPython(names_to_codes, codes_to_names),
    ]
