"""``manage.py check --database default`` (and ``migrate``) warn administrators
when a calendar lacks the official schedule for this year or next: deadlines
then fall back to plain weekends plus the days entered by hand."""

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
            "holidays and make-up working days in the admin. Until then deadlines count Monday-Friday.",
            obj=calendar,
            id="tickets.W001",
        )
        for calendar, years in missing
    ]
