"""A small history whose report figures are worked out by hand.

Period: 2026-11-16 … 2026-11-22 (Shanghai). Times below are Shanghai time.
Targets are written as the SLA engine leaves them (status, due time, steps the
sweep took, the clock seconds recorded when met), so that the report's counts
and percentiles can be checked against arithmetic done on paper.

Team "Orders" (the ``team`` fixture):

====  ==============  =========================================  ==========  ==========
tkt   target          outcome                                    business s  calendar s
====  ==============  =========================================  ==========  ==========
A1    first response  met on time                                3 600       3 600
A2    first response  met on time                                7 200       10 800
A3    first response  met late (met after due, before the sweep) 14 400      36 000
A4    first response  breached, still owed (steps_taken 2)       —           —
A5    first response  running, not yet due                       —           —
A6    first response  cancelled, never breached (in no column)   —           —
A1    resolution      met on time                                36 000      90 000
====  ==============  =========================================  ==========  ==========

Team "Returns":

====  ==============  =========================================  ==========  ==========
B1    first response  met on time                                1 800       1 800
B1    merchant reply  missed (the sweep closed it at the breach) —           —
OLD   first response  met late, but started 2026-11-15 23:00: outside the period
====  ==============  =========================================  ==========  ==========

By hand:

* first response, Orders: met 2 (A1, A2), breached 2 (A3 late, A4 overdue),
  open 1 (A5); compliance 2 / 4 = 50.0 %. Met targets' business seconds
  [3600, 7200, 14400]: p50 = 7200 s = 2.0 h; p90 at rank 0.9 × 2 = 1.8 →
  7200 + 0.8 × 7200 = 12960 s = 3.6 h. Calendar [3600, 10800, 36000]: p50 3.0 h;
  p90 = 10800 + 0.8 × 25200 = 30960 s = 8.6 h.
* first response, all teams: met 3, breached 2, open 1 → 60.0 %; business
  [1800, 3600, 7200, 14400]: p50 = (3600 + 7200) / 2 = 5400 s = 1.5 h.
* merchant reply, Returns: met 0, breached 1 → 0.0 %.
* resolution: met 1 → 100.0 %, p50 = p90 = 10.0 h business, 25.0 h calendar.
* escalations of these targets (the ladder steps they reached): Orders 4
  warnings (A1's resolution, A2, A3, A4: steps_taken ≥ 1), 1 level 1 and 1
  level 2 (A4); Returns 1 warning and 1 level 1 (B1's merchant miss: a merchant
  reply ends at its breach). OLD started outside the period.
* escalation *events* (the digest counts those by the day they happened):
  A4's warning on the 19th, breach on the 19th, level 2 on the 20th; B1's
  merchant miss on the 22nd; OLD's breach on the 15th.
"""

from __future__ import annotations

from datetime import datetime

from tests.builders import SH, event_row, target_row, ticket_row
from tests.factories import CategoryFactory, TeamFactory
from tickets.models import SLATarget, Ticket, TicketEvent

MON = datetime(2026, 11, 16, 9, 0, tzinfo=SH)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


# The report tests' short names for the builders of hand-worked histories.
ticket, target, event = ticket_row, target_row, event_row


def history(category) -> dict:
    """The fixture of the module docstring; returns the tickets by name."""
    returns = TeamFactory(name="Returns")
    other = CategoryFactory(code="return", name_zh="退货", name_en="Returns", default_priority="normal", team=returns)
    FR, RES, MR = SLATarget.Kind.FIRST_RESPONSE, SLATarget.Kind.RESOLUTION, SLATarget.Kind.MERCHANT_REPLY
    MET, RUNNING = SLATarget.Status.MET, SLATarget.Status.RUNNING
    t = {}
    t["A1"] = ticket(category, "CS-A1", at(16, 9))
    target(t["A1"], FR, started=at(16, 9), hours=24, status=MET, met_at=at(16, 10), steps_taken=0,
           business_seconds=3600, calendar_seconds=3600)  # fmt: skip
    target(t["A1"], RES, started=at(16, 9), hours=90, status=MET, met_at=at(17, 12), steps_taken=1,
           business_seconds=36000, calendar_seconds=90000)  # fmt: skip
    t["A2"] = ticket(category, "CS-A2", at(17, 9))
    target(t["A2"], FR, started=at(17, 9), hours=24, status=MET, met_at=at(17, 12), steps_taken=1,
           business_seconds=7200, calendar_seconds=10800)  # fmt: skip
    t["A3"] = ticket(category, "CS-A3", at(18, 9))
    target(t["A3"], FR, started=at(18, 9), hours=8, status=MET, met_at=at(18, 19), steps_taken=1,
           business_seconds=14400, calendar_seconds=36000)  # fmt: skip
    t["A4"] = ticket(category, "CS-A4", at(19, 9), is_overdue=True, escalation_level=2, due_at=at(19, 17))
    target(t["A4"], FR, started=at(19, 9), hours=8, status=RUNNING, steps_taken=3)
    event(t["A4"], TicketEvent.Kind.SLA_WARNING, at(19, 15), FR, 1)
    event(t["A4"], TicketEvent.Kind.SLA_BREACH, at(19, 17, 1), FR, 2)
    event(t["A4"], TicketEvent.Kind.SLA_LEVEL2, at(20, 10), FR, 3)
    t["A5"] = ticket(category, "CS-A5", at(22, 20))
    target(t["A5"], FR, started=at(22, 20), hours=24, status=RUNNING, steps_taken=0)
    t["A6"] = ticket(category, "CS-A6", at(20, 9), status=Ticket.Status.RESOLVED)
    target(t["A6"], FR, started=at(20, 9), hours=24, status=SLATarget.Status.CANCELLED, steps_taken=0)
    t["B1"] = ticket(other, "CS-B1", at(21, 9))
    target(t["B1"], FR, started=at(21, 9), hours=24, status=MET, met_at=at(21, 9, 30), steps_taken=0,
           business_seconds=1800, calendar_seconds=1800)  # fmt: skip
    target(t["B1"], MR, started=at(21, 10), hours=24, status=SLATarget.Status.MISSED, steps_taken=2,
           closed_at=at(22, 10, 1))  # fmt: skip
    event(t["B1"], TicketEvent.Kind.MERCHANT_MISSED, at(22, 10, 1), MR, 2)
    t["OLD"] = ticket(other, "CS-OLD", at(15, 23))
    target(t["OLD"], FR, started=at(15, 23), hours=8, status=MET, met_at=at(17, 9), steps_taken=2,
           business_seconds=40000, calendar_seconds=120000)  # fmt: skip
    event(t["OLD"], TicketEvent.Kind.SLA_BREACH, at(15, 23, 30), FR, 2)
    return t
