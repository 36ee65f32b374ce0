import json

from django.core.management.base import BaseCommand

from tickets.escalation import sla_sweep


class Command(BaseCommand):
    help = "Run one SLA sweep in the foreground and print the count of each step taken as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, batch_size, **options):
        self.stdout.write(json.dumps(sla_sweep(batch_size=batch_size), sort_keys=True))
