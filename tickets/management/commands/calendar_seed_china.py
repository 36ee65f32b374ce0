import json

from django.core.management.base import BaseCommand
from django.db import transaction

from tickets.china import DEFAULT_CALENDAR_NAME, china_calendar_seed
from tickets.models import BusinessCalendar, CalendarDay


class Command(BaseCommand):
    help = (
        "Load China's official holidays and make-up working days from the installed "
        "chinesecalendar package into the default calendar (idempotent; days entered "
        "by an administrator are kept). Run it after upgrading chinesecalendar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--calendar", default=None, help="calendar name (default: the default calendar)")
        parser.add_argument("--year", type=int, action="append", help="only this year (repeatable)")

    @transaction.atomic
    def handle(self, *args, calendar, year, **options):
        if calendar:
            target = BusinessCalendar.objects.select_for_update().get(name=calendar)
        else:
            target = BusinessCalendar.objects.select_for_update().filter(
                is_default=True
            ).first() or BusinessCalendar.objects.select_for_update().get(name=DEFAULT_CALENDAR_NAME)
        result = china_calendar_seed(calendar=target, day_model=CalendarDay, years=year)
        self.stdout.write(json.dumps({"calendar": target.name, **result}, ensure_ascii=False))
