"""The parties below the ticket domain: the merchants (shops) on the
marketplace, who they are and how they were vetted, and the users who answer
complaints for them.

Merchant and MerchantUser were the merchants app's; they moved here (keeping
their tables) so that the ticket domain, which files complaints about a
merchant, can point at them without reaching up into the merchants app.
What follows from a merchant's record — strikes, scores, penalties, risk
signals — stays in the merchants app.

And the API keys, staff's and merchants' alike (accounts.keys issues,
checks and revokes them)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    class Status(models.TextChoices):
        """Derived from the penalties in force (merchants.penalties.merchant_state_refresh),
        except ``suspended``, which an administrator sets."""

        ACTIVE = "active", _("Active")
        WARNED = "warned", _("Warned")
        RESTRICTED = "restricted", _("Restricted")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    shop_id = models.CharField(_("shop id"), max_length=32, unique=True)
    name = models.CharField(_("shop name"), max_length=200, db_index=True)
    legal_entity = models.CharField(_("legal entity"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    # 资质审核: the administrator's review of the uploaded documents (merchants.verification).
    verification = models.CharField(
        _("verification"), max_length=10, choices=Verification.choices, default=Verification.PENDING
    )
    verification_note = models.TextField(_("verification note"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    verified_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    suspended = models.BooleanField(
        _("suspended by an administrator"),
        default=False,
        help_text=_("A suspension stays until an administrator lifts it, whatever the score."),
    )
    search_demoted = models.BooleanField(_("demoted in search ranking"), default=False)
    promotions_excluded = models.BooleanField(_("excluded from promotions"), default=False)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, default=Decimal("100.0"))
    score_updated_at = models.DateTimeField(_("score computed"), null=True, blank=True)

    class Meta:
        db_table = "merchants_merchant"  # made by the merchants app, where the model began
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.shop_id})"


class MerchantUser(models.Model):
    """A Django user who answers complaints on behalf of one merchant."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_link", verbose_name=_("user")
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="users", verbose_name=_("merchant"))

    class Meta:
        db_table = "merchants_merchantuser"  # made by the merchants app, where the model began
        verbose_name = _("merchant user")
        verbose_name_plural = _("merchant users")

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class ApiKeyQuerySet(models.QuerySet):
    def live(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiKeysOfKind(models.Manager.from_queryset(ApiKeyQuerySet)):
    """The keys of one kind only: the manager of the admin's views of them
    (integrations.StaffApiToken, merchants.MerchantApiToken)."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def get_queryset(self) -> ApiKeyQuerySet:
        return super().get_queryset().filter(kind=self.kind)


class ApiKey(models.Model):
    """A key for the API (``Authorization: Bearer …``), acting as its user with
    exactly their rights: a staff key (``css_…``, made by an administrator for
    a staff user, often a service account such as “order system”) or a
    merchant key (``csm_…``, made by a merchant user for their shop's tools).
    Only a SHA-256 of the key is kept; the key is shown once, when it is made."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("Staff")
        MERCHANT = "merchant", _("Merchant")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("user")
    )
    # The shop a merchant key acts for; none for a staff key (the constraint below).
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("merchant"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. “order system”."))
    prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    key_hash = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="staff", merchant__isnull=True) | Q(kind="merchant", merchant__isnull=False),
                name="api_key_merchant_iff_merchant_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
