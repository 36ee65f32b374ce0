import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from cs_desk.exceptions import ApplicationError
from tickets.selectors import parse_instant, sla_preview


class Command(BaseCommand):
    help = (
        "Print, as JSON, which SLA policy a ticket filed AT would get and when each of its targets would be due: "
        "by PRIORITY, or by CATEGORY (and CHANNEL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--priority", help="urgent, normal or low (default: the category's)")
        parser.add_argument("--category", help="a category code, e.g. refund")
        parser.add_argument("--channel", help="web (default), email, phone, chat or app")
        parser.add_argument("--at", required=True, help="ISO-8601 instant with offset, e.g. 2026-09-30T10:00+08:00")

    def handle(self, *args, priority, category, channel, at, **options):
        if not priority and not category:
            raise CommandError(gettext("Give --priority or --category."), returncode=2)
        try:
            result = sla_preview(at=parse_instant(at), priority=priority, category=category, channel=channel)
        except ApplicationError as exc:
            raise CommandError(str(exc.message), returncode=2) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False))
