"""Live chat: agents' availability and capacity, and the state of each chat
(who it is offered to, who took it, what each side has read). The conversation
itself is the ticket's messages; the rules are in ``tickets.services.chat``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.tickets import Ticket


class AgentAvailability(models.Model):
    """Whether a staff member takes chats now, and how many at once. No row reads
    as offline: a staff member takes chats only after saying so."""

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="availability",
        verbose_name=_("agent"),
    )
    status = models.CharField(_("availability"), max_length=10, choices=Status.choices, default=Status.OFFLINE)
    capacity = models.PositiveSmallIntegerField(
        _("concurrent chats"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    changed_at = models.DateTimeField(_("since"), default=timezone.now)
    # When the agent was last offered a chat: of two agents equally loaded, the one
    # idle longest (never offered first) gets the next.
    last_offered_at = models.DateTimeField(_("last offered a chat"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent availability")
        verbose_name_plural = _("agent availability")
        indexes = [
            # The routing's candidates: the online agents (tickets.services.chat.chat_route).
            models.Index(fields=["status"], name="availability_online_idx", condition=Q(status="online")),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_status_display()}"


class Chat(models.Model):
    """A chat's state beside its ticket (channel chat)."""

    class State(models.TextChoices):
        OFFERED = "offered", _("Offered to an agent")
        QUEUED = "queued", _("Waiting in the team's queue")
        CONNECTED = "connected", _("With an agent")
        ENDED = "ended", _("Ended")

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="chat", verbose_name=_("ticket")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    offered_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offered to"),
    )
    offer_expires_at = models.DateTimeField(_("offer lapses"), null=True, blank=True)
    # The agents this chat was offered to who let it pass: never offered it again.
    passed = ArrayField(models.IntegerField(), verbose_name=_("agents who let it pass"), default=list, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # The last message each side has seen (message ids): the "read" marks.
    consumer_read_upto = models.BigIntegerField(_("read by the consumer up to message"), default=0)
    agent_read_upto = models.BigIntegerField(_("read by the agent up to message"), default=0)

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes = [
            # The offers that lapse (tickets.services.chat.chat_offers_expire, every second).
            models.Index(fields=["offer_expires_at"], name="chat_offer_expiry_idx", condition=Q(state="offered")),
            # Live chats waiting for an agent to come free (chat_offers_expire, every second).
            models.Index(fields=["started_at"], name="chat_queued_idx", condition=Q(state="queued")),
            # An agent's load: their chats with an agent (chat_route, the supervisors' view).
            models.Index(fields=["agent"], name="chat_agent_active_idx", condition=Q(state="connected")),
            # Measured handle times for staffing (reports.staffing).
            models.Index(fields=["ended_at"], name="chat_ended_idx", condition=Q(accepted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} · {self.get_state_display()}"
