"""What the model modules share: the priorities, the open statuses, time-zone validation."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

OPEN_STATUSES = ("new", "open", "awaiting_merchant", "pending")


def _validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value}) from exc


class Channel(models.TextChoices):
    """How a complaint reached us (an SLA policy may be chosen by it)."""

    WEB = "web", _("Web form")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    # A chat started when no agent of its team was available: it continues as an
    # ordinary ticket (the category's policy, not the chat's minutes).
    CHAT_LEFT = "chat_left", _("Chat, left as a message")
    APP = "app", _("App")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")

    @classmethod
    def raised(cls, value: str) -> str:
        """One step more urgent (urgent stays urgent)."""
        order = [cls.LOW, cls.NORMAL, cls.URGENT]
        return order[min(order.index(cls(value)) + 1, len(order) - 1)].value
