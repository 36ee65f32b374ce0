"""The Celery application. Periodic jobs are declared in settings
(``CELERY_BEAT_SCHEDULE``), all in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_desk.settings.dev")

app = Celery("cs_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
