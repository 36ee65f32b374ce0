import json

from django.core.management.base import BaseCommand
from django.db import transaction

from tickets.calendars import working_calendar
from tickets.china import DEFAULT_CALENDAR_NAME, china_calendar_seed
from tickets.models import BusinessCalendar, CalendarDay
from tickets.services.calendars import calendar_targets_redate, promises_moved


class Command(BaseCommand):
    help = (
        "Load China's official holidays and make-up working days from the installed "
        "chinesecalendar package into the default calendar (idempotent; days entered "
        "by an administrator are kept; the years loaded stop being provisional). Run it "
        "after upgrading chinesecalendar. Open promises keep their deadlines and the "
        "output says how many a re-date would move; --redate re-dates them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--calendar", default=None, help="calendar name (default: the default calendar)")
        parser.add_argument("--year", type=int, action="append", help="only this year (repeatable)")
        parser.add_argument(
            "--redate",
            action="store_true",
            help="re-date the open promises over the loaded schedule (each gets an event: old and new deadline)",
        )

    def handle(self, *args, calendar, year, redate, **options):
        with transaction.atomic():
            if calendar:
                target = BusinessCalendar.objects.select_for_update().get(name=calendar)
            else:
                target = BusinessCalendar.objects.select_for_update().filter(
                    is_default=True
                ).first() or BusinessCalendar.objects.select_for_update().get(name=DEFAULT_CALENDAR_NAME)
            result = china_calendar_seed(calendar=target, day_model=CalendarDay, years=year)
        moved = promises_moved(target, working_calendar(target))
        redated = calendar_targets_redate(calendar=target) if redate else 0
        self.stdout.write(
            json.dumps(
                {"calendar": target.name, **result, "promises_moved": moved, "redated": redated}, ensure_ascii=False
            )
        )
