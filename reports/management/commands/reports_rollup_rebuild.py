import json

from django.core.management.base import BaseCommand

from reports.rollups import rollups_compact, rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the SLA report's rollups from the SLA targets (in TIME_ZONE's days) and print what was written "
        "as JSON. Safe to run again and while the desk works. --compact only folds the ledger in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--compact", action="store_true", help="only fold the ledger in (what beat does)")

    def handle(self, *args, compact, **options):
        result = rollups_compact() if compact else rollups_rebuild()
        self.stdout.write(json.dumps(result, sort_keys=True))
