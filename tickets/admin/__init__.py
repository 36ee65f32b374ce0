"""The Django admin: configuration (calendars and their days, SLA policies,
teams, categories) and read-mostly views of tickets, their SLA targets, the
audit trail and the notification outbox.

Nothing here goes around the domain code:

* ticket changes are applied by :mod:`tickets.services` (an event, re-dated
  targets and notifications, as in the agent workspace); tickets are not added
  or deleted here;
* every calendar edit (the calendar, its working periods, its days, including
  bulk deletes) bumps the calendar's version through
  :func:`tickets.calendars.calendar_changed`, so cached compiled calendars notice;
* the audit trail (events) and the SLA targets are read-only.
"""

from tickets.admin import calendars, chat, config, tickets, worktime  # noqa: F401  (registers the pages)

# The admin index shows the calendars' warning too (cs_desk.admin.CsDeskAdminSite.index).
