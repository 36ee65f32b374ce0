"""Merchants (shops) on the marketplace. Minimal for now: who they are, how to
reach them, who signs in for them, and the strikes their missed deadlines cost."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    shop_id = models.CharField(_("shop id"), max_length=32, unique=True)
    name = models.CharField(_("shop name"), max_length=200, db_index=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.shop_id})"


class MerchantUser(models.Model):
    """A Django user who answers complaints on behalf of one merchant."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_link")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="users")

    class Meta:
        verbose_name = _("merchant user")
        verbose_name_plural = _("merchant users")

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class MerchantStrike(models.Model):
    """A missed 24-hour reply deadline. One per missed target, however many
    sweeps notice the miss."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="strikes")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="merchant_strikes")
    target = models.OneToOneField("tickets.SLATarget", on_delete=models.CASCADE, related_name="merchant_strike")
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("merchant strike")
        verbose_name_plural = _("merchant strikes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "created_at"], name="strike_merchant_created_idx")]

    def __str__(self) -> str:
        return f"{self.merchant} {self.created_at:%Y-%m-%d}"
