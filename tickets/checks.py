"""``manage.py check --database default`` (and ``migrate``) warn administrators
when a calendar lacks the official schedule for this year or next: deadlines
then count the statutory holidays and their 补假, provisionally, plus the days
entered by hand, and know no make-up working day."""

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError
from django.utils import timezone


@register(Tags.database)
def calendar_coverage_check(app_configs, databases=None, **kwargs):
    if not databases:
        return []
    from tickets.calendars import calendars_missing_years

    try:
        missing = calendars_missing_years(timezone.localdate())
    except DatabaseError:  # not migrated yet
        return []
    return [
        Warning(
            f"Calendar {calendar.name!r} has no official working-day schedule for {', '.join(map(str, years))}.",
            hint="Upgrade chinesecalendar and run 'manage.py calendar_seed_china', or enter that year's "
            "official schedule in the admin (the calendar's page). Until then deadlines count the statutory "
            "holidays and their days in lieu, provisionally, and no make-up working day.",
            obj=calendar,
            id="tickets.W001",
        )
        for calendar, years in missing
    ]
