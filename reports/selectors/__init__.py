"""The managers' reports: SLA compliance, backlog and volume peaks.

Every figure is computed in PostgreSQL (counts, ``percentile_cont``) from the
rows the SLA engine itself writes: each ``SLATarget`` (its status, due time,
the escalation steps the sweep took, and the clock time it took to be met,
recorded by ``tickets.targets.target_close``) and the escalation events. There
is no second definition of "met" or "breached" here: ``SLATarget.BREACHED`` is
the rule, and the times are the SLA clock's own.

Definitions (shown on the pages):

* a target belongs to the period in which its clock started (the reader's time
  zone decides the days);
* **breached**: the sweep took its breach step, or it was met after its due
  time; **met**: met and not breached; **open**: still owed and not breached;
  a target no longer owed (say, a next response on a ticket resolved meanwhile)
  that never breached counts in none of them;
* **compliance** = met / (met + breached);
* times to respond / resolve are over met targets (late ones included), in
  business and in calendar hours of the target's calendar, pauses (waiting on
  the consumer) excluded.

The SLA report reads these figures from per-day and per-week rollups that
triggers keep current (``sla_rollups``; docs/reports.md): the counts exactly,
the percentiles within 0.99 % (exactly for small periods).

Callers pass ``reader``: the staff user whose tickets count (those
``tickets.access.ticket_scope`` lets them see), or None for every ticket (the
digest, the benchmark).

One module per report: ``period`` (the period and the grouping), ``sla``
(and ``sla_rollups``, its reads of the rollups),
``backlog`` (the backlog and the volume peaks), ``staffing`` (the agents next
week's forecast takes, on the volume page). Callers import from the package.
"""

from reports.selectors.backlog import (
    AGE_BUCKETS,
    FORECAST_WEEKS,
    Backlog,
    Forecast,
    backlog,
    forecast,
    heatmap,
    hour_of_week,
)
from reports.selectors.period import (
    DEFAULT_DAYS,
    EARLIEST,
    GROUPINGS,
    LATEST,
    MAX_PERIOD_DAYS,
    Grouping,
    Period,
    out_of_range_text,
    period_asked,
    period_problems,
    reader_zone,
)
from reports.selectors.sla import (
    KIND_ORDER,
    MET,
    OPEN,
    PERCENTILES,
    Day,
    GroupFigures,
    SLAReport,
    TargetFigures,
    compliance,
    escalation_counts,
    overdue_tickets,
    sla_decided,
    sla_report,
    sla_report_exact,
    sla_trend,
)
from reports.selectors.staffing import (
    MEASURE_DAYS,
    MEASURED_MIN,
    HandleTime,
    StaffingHour,
    StaffingPlan,
    chat_answer_seconds,
    chat_handle_time,
    staffing_plan,
    ticket_handle_time,
)
from tickets.access import scoped

__all__ = [
    "AGE_BUCKETS",
    "DEFAULT_DAYS",
    "EARLIEST",
    "FORECAST_WEEKS",
    "GROUPINGS",
    "KIND_ORDER",
    "LATEST",
    "MAX_PERIOD_DAYS",
    "MEASURED_MIN",
    "MEASURE_DAYS",
    "MET",
    "OPEN",
    "PERCENTILES",
    "Backlog",
    "Day",
    "Forecast",
    "GroupFigures",
    "Grouping",
    "HandleTime",
    "Period",
    "SLAReport",
    "StaffingHour",
    "StaffingPlan",
    "TargetFigures",
    "backlog",
    "chat_answer_seconds",
    "chat_handle_time",
    "compliance",
    "escalation_counts",
    "forecast",
    "heatmap",
    "hour_of_week",
    "out_of_range_text",
    "overdue_tickets",
    "period_asked",
    "period_problems",
    "reader_zone",
    "scoped",
    "sla_decided",
    "sla_report",
    "sla_report_exact",
    "sla_trend",
    "staffing_plan",
    "ticket_handle_time",
]
