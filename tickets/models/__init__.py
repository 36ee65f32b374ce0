"""The ticket domain's models, one module per purpose: ``config`` (calendars,
teams, categories, SLA policies), ``tickets`` (tickets, messages, SLA targets,
the audit trail), ``outbox`` (the email channel of the outbox), ``staff``
(evidence files, staff profiles, canned answers, report digests), ``alerts``
(the alert words), ``chat`` (agents' availability, each chat's state), ``worktime``
(agents' working time on tickets). Callers import from the package; migrations name
``_tracking_token``, ``_validate_time_zone`` and ``message_id_new`` here."""

from tickets.models.alerts import AlertKeyword
from tickets.models.base import OPEN_STATUSES, Priority, _validate_time_zone
from tickets.models.chat import AgentAvailability, Chat
from tickets.models.config import BusinessCalendar, CalendarDay, Category, ConfigStamp, SLAPolicy, Team, WorkingPeriod
from tickets.models.outbox import MESSAGE_ID_DB_DEFAULT, Notification, message_id_new
from tickets.models.staff import Attachment, CannedAnswer, ReportDigest, StaffAlert, StaffProfile
from tickets.models.tickets import (
    Message,
    SLATarget,
    SLATargetQuerySet,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketQuerySet,
    _tracking_token,
)
from tickets.models.worktime import WorkTime

__all__ = [
    "MESSAGE_ID_DB_DEFAULT",
    "OPEN_STATUSES",
    "AgentAvailability",
    "AlertKeyword",
    "Attachment",
    "BusinessCalendar",
    "CalendarDay",
    "CannedAnswer",
    "Category",
    "Chat",
    "ConfigStamp",
    "Message",
    "Notification",
    "Priority",
    "ReportDigest",
    "SLAPolicy",
    "SLATarget",
    "SLATargetQuerySet",
    "StaffAlert",
    "StaffProfile",
    "Team",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "TicketQuerySet",
    "WorkTime",
    "WorkingPeriod",
    "_tracking_token",
    "_validate_time_zone",
    "message_id_new",
]
