"""Staffing next week: how many agents each hour of the forecast takes, for chat and
for tickets, beside the agents there are.

* **Arrivals**: the volume forecast (``backlog.forecast``: the mean of the same
  hour over the last weeks), of the chat channel for chats and of every other
  channel for tickets (a chat left as a message is a ticket).
* **Chat** is answered live: the fewest agents whose Erlang C service level
  (``reports.staffing``) answers ``STAFFING_CHAT_SERVICE_LEVEL`` of the chats
  within the chat policy's first-response target. Handle time: the mean of
  ``ended_at − accepted_at`` of the chats ended in the last ``MEASURE_DAYS`` days.
* **Tickets** wait in the queue: the hours of work arriving per hour over the
  occupancy ``STAFFING_OCCUPANCY``. Handle time: the agents' working time
  (``WorkTime``, from the reply box) in the last ``MEASURE_DAYS`` days over the
  tickets it was spent on.

With fewer than ``MEASURED_MIN`` chats or tickets measured, the handle time is
the setting's (``STAFFING_CHAT_HANDLE_S``, ``STAFFING_TICKET_HANDLE_S``) and the
page says it is assumed. Every figure counts only the tickets ``reader`` may see
(None: all), and the staff of the teams they see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, F, Q, Sum

from cs_desk.exceptions import ApplicationError
from reports import staffing
from reports.selectors.backlog import forecast
from tickets.access import colleagues, scoped
from tickets.calendars import working_calendar
from tickets.models import AgentAvailability, Chat, Priority, Ticket, WorkTime
from tickets.policies import PolicyQuestion, policy_choose

CHAT = Ticket.Channel.CHAT
TICKET_CHANNELS = tuple(c for c in Ticket.Channel.values if c != CHAT)
# The handle times are measured over this many days, and trusted from this many
# chats (tickets) on.
MEASURE_DAYS = 28
MEASURED_MIN = 20
# The chat's answer target when no policy answers for a chat (the seeded chat
# policy's first response: 1 minute).
DEFAULT_ANSWER_SECONDS = 60


@dataclass(frozen=True)
class HandleTime:
    seconds: int  # the handle time planned with
    measured: int  # chats (tickets) measured in the last MEASURE_DAYS days
    assumed: bool  # too few measured: the setting's figure


@dataclass(frozen=True)
class StaffingHour:
    day: date
    hour: int
    chats: float  # forecast per hour
    chat_agents: int
    tickets: float
    ticket_agents: int


@dataclass
class StaffingPlan:
    first: date  # the first day planned (tomorrow), as the forecast's
    weeks: int  # the weeks the forecast averages
    answer_seconds: int  # the chat policy's first-response target
    goal: float  # the share of chats to answer within it
    occupancy: float
    chat_handle: HandleTime
    ticket_handle: HandleTime
    hours: list[StaffingHour]  # the hours with any forecast, in order
    online: int  # agents of the reader's teams online for chat now
    staff: int  # members and supervisors of the reader's teams

    @property
    def most_chat_agents(self) -> int:
        return max((h.chat_agents for h in self.hours), default=0)

    @property
    def most_ticket_agents(self) -> int:
        return max((h.ticket_agents for h in self.hours), default=0)


def chat_answer_seconds() -> int:
    """The chat policy's first-response target in seconds (the policy a normal
    chat gets): the time within which the service level counts a chat answered."""
    try:
        policy = policy_choose(PolicyQuestion(priority=Priority.NORMAL, channel=CHAT))
    except ApplicationError:
        return DEFAULT_ANSWER_SECONDS
    _clock, duration = policy.target("first_response", working_calendar(policy.calendar).daily_working_time)
    return int(duration.total_seconds())


def chat_handle_time(*, now: datetime, reader) -> HandleTime:
    """The mean time from an agent's accepting a chat to its end, over the chats
    ended in the last MEASURE_DAYS days (index chat_ended_idx)."""
    chats = Chat.objects.filter(
        accepted_at__isnull=False, ended_at__gt=now - timedelta(days=MEASURE_DAYS), ended_at__lte=now
    )
    row = scoped(chats, reader, "ticket__").aggregate(n=Count("pk"), mean=Avg(F("ended_at") - F("accepted_at")))
    if row["n"] < MEASURED_MIN:
        return HandleTime(seconds=settings.STAFFING_CHAT_HANDLE_S, measured=row["n"], assumed=True)
    # At least a second: even chats ended the instant they were accepted need an agent to answer them.
    return HandleTime(seconds=max(1, round(row["mean"].total_seconds())), measured=row["n"], assumed=False)


def ticket_handle_time(*, now: datetime, reader) -> HandleTime:
    """The agents' working time per ticket: the seconds worked on tickets (not live
    chats) in the last MEASURE_DAYS days (Shanghai days, today's included) over the
    tickets worked on (index work_time_day_idx)."""
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    work = WorkTime.objects.filter(day__gt=today - timedelta(days=MEASURE_DAYS), day__lte=today).exclude(
        ticket__channel=CHAT
    )
    row = scoped(work, reader, "ticket__").aggregate(seconds=Sum("seconds"), n=Count("ticket", distinct=True))
    if row["n"] < MEASURED_MIN:
        return HandleTime(seconds=settings.STAFFING_TICKET_HANDLE_S, measured=row["n"], assumed=True)
    return HandleTime(seconds=round(row["seconds"] / row["n"]), measured=row["n"], assumed=False)


def _team_staff(reader):
    """The active members and supervisors of the teams ``reader`` sees (every team for None)."""
    if reader is not None:
        return colleagues(reader)
    staff = get_user_model().objects.filter(is_active=True)
    return staff.filter(Q(teams__isnull=False) | Q(supervised_teams__isnull=False)).distinct()


def staffing_plan(*, now: datetime, zone: ZoneInfo, reader) -> StaffingPlan:
    """Agents needed per hour of next week (the forecast's days and hours in
    ``zone``; only the hours with any forecast), for chat and for tickets, with the
    inputs used and the agents available."""
    goal, occupancy = settings.STAFFING_CHAT_SERVICE_LEVEL, settings.STAFFING_OCCUPANCY
    answer = chat_answer_seconds()
    chat_handle = chat_handle_time(now=now, reader=reader)
    ticket_handle = ticket_handle_time(now=now, reader=reader)
    chats = forecast(now=now, zone=zone, reader=reader, channels=[CHAT])
    tickets = forecast(now=now, zone=zone, reader=reader, channels=TICKET_CHANNELS)
    hours = []
    for offset in range(7):
        day = chats.first + timedelta(days=offset)
        for hour in range(24):
            chat_rate, ticket_rate = chats.grid[day.weekday()][hour], tickets.grid[day.weekday()][hour]
            if not chat_rate and not ticket_rate:
                continue
            hours.append(
                StaffingHour(
                    day=day,
                    hour=hour,
                    chats=chat_rate,
                    chat_agents=staffing.agents_for_chat(
                        arrivals_per_hour=chat_rate,
                        handle_seconds=chat_handle.seconds,
                        answer_seconds=answer,
                        goal=goal,
                    ),
                    tickets=ticket_rate,
                    ticket_agents=staffing.agents_for_work(
                        tickets_per_hour=ticket_rate, handle_seconds=ticket_handle.seconds, occupancy=occupancy
                    ),
                )
            )
    staff = _team_staff(reader)
    return StaffingPlan(
        first=chats.first,
        weeks=chats.weeks,
        answer_seconds=answer,
        goal=goal,
        occupancy=occupancy,
        chat_handle=chat_handle,
        ticket_handle=ticket_handle,
        hours=hours,
        online=AgentAvailability.objects.filter(
            status=AgentAvailability.Status.ONLINE, user__in=staff.values("pk")
        ).count(),
        staff=staff.count(),
    )
