"""Agents' working time on tickets: the seconds each spent writing on a ticket, per
day. Written by ``tickets.services.worktime.work_time_add`` (from the reply box's
beat); read for the measured handle time of tickets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.tickets import Ticket


class WorkTime(models.Model):
    """The seconds ``user`` spent writing on ``ticket`` on ``day`` (Shanghai time,
    the site's time zone). One row per ticket, user and day, added to as they work."""

    # The unique constraint below leads with the ticket: it is the ticket's index.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="work_times", db_index=False, verbose_name=_("ticket")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent")
    )
    day = models.DateField(_("day"))
    seconds = models.PositiveIntegerField(_("seconds worked"), default=0)

    class Meta:
        verbose_name = _("work time")
        verbose_name_plural = _("work time")
        constraints = [
            # What work_time_add's INSERT … ON CONFLICT adds to.
            models.UniqueConstraint(fields=["ticket", "user", "day"], name="work_time_ticket_user_day_uniq"),
        ]
        indexes = [
            # The last 28 days' work, for the measured handle time of tickets on the
            # volume report's staffing (reports.selectors.staffing.staffing_plan).
            models.Index(fields=["day"], name="work_time_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} · {self.user_id} · {self.day}: {self.seconds} s"
