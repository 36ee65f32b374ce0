from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data `make run` loads (manage.py demo_seed): it touches every
    app, so it sits on top of them all. No models."""

    name = "demo"
    verbose_name = _("Demo data")
