"""``manage.py merchant_scores``: the daily scoring job, now (the penalty ladder
for every merchant it concerns, then every score); prints the counts as JSON."""

import json

from django.core.management.base import BaseCommand

from merchants.penalties import merchants_daily


class Command(BaseCommand):
    help = "Move merchants on the penalty ladder and recompute every merchant's score now."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(merchants_daily(), sort_keys=True))
