from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """The parties who sign in or call in, below the ticket domain: the merchants
    (shops) and their users, and the API keys staff tools and merchants' tools
    call the API with. It imports no other app of the project, so every app may
    use it."""

    name = "accounts"
    label = "accounts"
    verbose_name = _("Accounts")
