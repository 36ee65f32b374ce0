"""``manage.py merchant_risk_signals``: the daily risk-signal job, now; prints
the number found per kind as JSON."""

import json

from django.core.management.base import BaseCommand

from merchants.risk import risk_signals_detect


class Command(BaseCommand):
    help = "Look for signs of bought or shared merchant accounts now."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(risk_signals_detect(), sort_keys=True))
