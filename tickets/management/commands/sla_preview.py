import json

from django.core.management.base import BaseCommand, CommandError

from cs_desk.exceptions import ApplicationError
from tickets.selectors import parse_instant, sla_preview


class Command(BaseCommand):
    help = "Print, as JSON, when each SLA target of a ticket of PRIORITY filed AT would be due."

    def add_arguments(self, parser):
        parser.add_argument("--priority", required=True, help="urgent, normal or low")
        parser.add_argument("--at", required=True, help="ISO-8601 instant with offset, e.g. 2026-09-30T10:00+08:00")

    def handle(self, *args, priority, at, **options):
        try:
            result = sla_preview(priority=priority, at=parse_instant(at))
        except ApplicationError as exc:
            raise CommandError(str(exc.message), returncode=2) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False))
