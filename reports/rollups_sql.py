"""The SQL of the SLA report's rollups: the one definition of a target's share,
the triggers that append every change of it to the ledger, and the fold of
ledger rows into the per-day counts and histograms (docs/reports.md).

Migration 0001 installs ``FUNCTIONS_SQL`` and ``TRIGGERS_SQL``; a change to
them comes with a migration that runs them again. ``reports.rollups`` runs the
fold and the rebuild from the same text, so the incremental path and the
rebuild cannot count differently.
"""

from __future__ import annotations

TARGETS = "tickets_slatarget"
TICKETS = "tickets_ticket"
LEDGER = "reports_slachange"
ROLLUP = "reports_slarollup"

# Histogram buckets: bucket b >= 1 holds the seconds in [GAMMA ** (b - 1), GAMMA ** b),
# bucket 0 holds 0. Read back as the harmonic mean of its bounds, a value is off by
# at most (GAMMA - 1) / (GAMMA + 1) = 0.990 % (reports.rollups.bucket_value).
GAMMA = 1.02

COUNTS = ["targets", "met", "breached", "open", "warnings", "level1", "level2", "timed"]
KEYS = ["priority", "category_id", "team_id", "assignee_id", "merchant_id", "channel"]
LEDGER_COLUMNS = ["day", "kind", *COUNTS, *KEYS, "business_seconds", "calendar_seconds"]

# The rollup zone: a constant function (``zone_sql``), so no table the tests' flush
# empties can leave the triggers without one, and the planner folds it in.
ZONE = "reports_rollup_zone()"


def zone_sql(zone: str) -> str:
    """(Re)define the rollup zone, an IANA name (letters, digits, "_", "+", "-", "/")."""
    if not zone or not all(c.isalnum() or c in "_+-/" for c in zone):
        raise ValueError(f"Not a time zone name: {zone!r}")
    return f"CREATE OR REPLACE FUNCTION {ZONE} RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT '{zone}' $$"


# The key of each grouping of the report (reports.selectors.GROUPINGS), as text;
# "" for none (an unassigned ticket, no merchant).
GROUPING_KEYS = {
    "priority": "{t}.priority",
    "category": "{t}.category_id::text",
    "team": "{t}.team_id::text",
    "agent": "coalesce({t}.assignee_id::text, '')",
    "merchant": "coalesce({t}.merchant_id::text, '')",
    "channel": "{t}.channel",
}


def _own(s: str, sign: str = "1", *, named: bool = True) -> list[str]:
    """The columns of the share of target ``s`` that come from the target itself:
    its day (in the rollup zone), kind, counts times ``sign``, and clock seconds.
    The rules are the report's (tickets.models.SLATarget.BREACHED,
    reports.selectors.sla.MET, OPEN): breached once the sweep took the breach step
    or met after the due time; met and open only when not breached; a target met
    while paused has no due time."""
    breached = f"({s}.steps_taken >= 2 OR coalesce({s}.met_at > {s}.due_at, false))"
    counts = {
        "targets": "1",
        "met": f"({s}.status = 'met' AND NOT {breached})",
        "breached": breached,
        "open": f"({s}.status IN ('running', 'paused') AND NOT {breached})",
        "warnings": f"{s}.steps_taken >= 1",
        "level1": f"{s}.steps_taken >= 2",
        "level2": f"{s}.steps_taken >= 3",
        "timed": f"{s}.status = 'met'",
    }
    columns = {"day": f"({s}.started_at AT TIME ZONE {ZONE})::date", "kind": f"{s}.kind"}
    columns |= {name: f"{sign} * ({expression})::int" for name, expression in counts.items()}
    columns |= {"business_seconds": f"{s}.business_seconds", "calendar_seconds": f"{s}.calendar_seconds"}
    return [f"{expression} AS {name}" if named else expression for name, expression in columns.items()]


def share(s: str, k: str, sign: str = "1") -> str:
    """The select list of the share of target ``s`` keyed by ticket ``k`` (any
    relation with the ticket's key columns), times ``sign``, in LEDGER_COLUMNS order."""
    own = _own(s, sign)
    return ", ".join([*own[:-2], *(f"{k}.{key} AS {key}" for key in KEYS), *own[-2:]])


def _insert(select: str) -> str:
    return f"INSERT INTO {LEDGER} ({', '.join(LEDGER_COLUMNS)}) {select};"


FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION reports_sla_bucket(seconds integer) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds <= 0 THEN 0
                ELSE 1 + floor(ln(seconds::float8) / ln({GAMMA}::float8))::int END::smallint
$$;
-- Histogram b {{bucket: count}} added into a (buckets that net to nothing dropped):
-- a walk over b, which the fold's rows keep small, rather than a re-aggregation of a.
CREATE OR REPLACE FUNCTION reports_sla_histogram_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    bucket text;
    n int;
    total int;
BEGIN
    FOR bucket, n IN SELECT key, value::int FROM jsonb_each_text(b) LOOP
        total := coalesce((a ->> bucket)::int, 0) + n;
        a := CASE WHEN total = 0 THEN a - bucket ELSE jsonb_set(a, ARRAY[bucket], to_jsonb(total)) END;
    END LOOP;
    RETURN a;
END
$$;
"""

# Inserts and deletes: statement triggers, one INSERT … SELECT per statement from its
# transition table, however many rows it wrote. Updates: row triggers with a WHEN
# clause (a statement trigger's join of its old and new transition tables went by
# nested loop: minutes for an UPDATE of 20,000 rows): the function runs only for a target whose share
# changed (met, breached, a step further, paused, cancelled; a due time moved on a
# target that has not breached changes none) or for a ticket whose group columns
# changed (an assignment, a move to another team, a priority raised); the many
# updates that change no share (the next step's instant, a ticket's due_at or
# updated_at) cost the executor a comparison and nothing else.
_UPDATED = f"""
SELECT {share("OLD", "k", "-1")} FROM {TICKETS} k WHERE k.id = OLD.ticket_id
UNION ALL
SELECT {share("NEW", "k")} FROM {TICKETS} k WHERE k.id = NEW.ticket_id
"""
# (The clock's start stands for its day: the same day, whatever the zone.)
_SHARE_CHANGED = (
    f"ROW({', '.join(_own('OLD', named=False)[1:])}, OLD.started_at, OLD.ticket_id) "
    f"IS DISTINCT FROM ROW({', '.join(_own('NEW', named=False)[1:])}, NEW.started_at, NEW.ticket_id)"
)

_KEYS_MOVED = f"""
SELECT {share("s", "OLD", "-1")} FROM {TARGETS} s WHERE s.ticket_id = OLD.id
UNION ALL
SELECT {share("s", "NEW")} FROM {TARGETS} s WHERE s.ticket_id = NEW.id
"""
_KEYS_CHANGED = f"({', '.join(f'OLD.{c}' for c in KEYS)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in KEYS)})"

_TRIGGERS = {
    # name: (table, event, what it runs for, the SELECT whose rows go to the ledger)
    "reports_sla_targets_inserted": (
        TARGETS,
        "INSERT",
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
        f"SELECT {share('s', 'k')} FROM new_rows s JOIN {TICKETS} k ON k.id = s.ticket_id",
    ),
    "reports_sla_targets_updated": (TARGETS, "UPDATE", f"FOR EACH ROW WHEN ({_SHARE_CHANGED})", _UPDATED),
    "reports_sla_targets_deleted": (
        TARGETS,
        "DELETE",
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
        f"SELECT {share('s', 'k', '-1')} FROM old_rows s JOIN {TICKETS} k ON k.id = s.ticket_id",
    ),
    # A ticket moved to another team, agent, priority … takes its targets with it.
    "reports_sla_ticket_keys_moved": (
        TICKETS,
        f"UPDATE OF {', '.join(KEYS)}",
        f"FOR EACH ROW WHEN ({_KEYS_CHANGED})",
        _KEYS_MOVED,
    ),
}

# Each function looks tickets or targets up by key, whatever the planner believes of
# the tables' sizes: with a table's statistics from when it was nearly empty (a fresh
# database, a bulk load in the same transaction), the planner may otherwise scan the
# whole table once per written row. Sequential scans are priced out (not forbidden)
# inside these functions only, and JIT is off (a priced-out plan looks expensive).
TRIGGERS_SQL = "\n".join(
    f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off AS $$
BEGIN
    {_insert(select)}
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS {name} ON {table};
CREATE TRIGGER {name} AFTER {event} ON {table} {when}
EXECUTE FUNCTION {name}();
"""
    for name, (table, event, when, select) in _TRIGGERS.items()
)

DROP_SQL = (
    "\n".join(
        f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();"
        for name, (table, _event, _when, _select) in _TRIGGERS.items()
    )
    + "\nDROP FUNCTION IF EXISTS reports_sla_bucket(integer);"
)

# Every share of every target, as the triggers would have appended them one by one.
ALL_SHARES = f"SELECT {share('s', 'k')} FROM {TARGETS} s JOIN {TICKETS} k ON k.id = s.ticket_id"
TAKE_LEDGER = f"DELETE FROM {LEDGER} RETURNING {', '.join(LEDGER_COLUMNS)}"

_FAN_OUT = ", ".join(f"('{code}', {expression.format(t='m')})" for code, expression in GROUPING_KEYS.items())


def fold(source: str) -> str:
    """Add the shares ``source`` (a SELECT, or DELETE … RETURNING, of
    LEDGER_COLUMNS) into the rollups of their day and of their week, once per
    grouping: the counts, and the met ones' clock seconds into the histograms.
    Returns one row: the shares taken, the rollup rows written."""
    cell = "grouping, span, day, team_id, kind, key"
    counts = ", ".join(COUNTS)
    sums = ", ".join(f"sum({c}) AS {c}" for c in COUNTS)
    added = ", ".join(f"{c} = {ROLLUP}.{c} + excluded.{c}" for c in COUNTS)
    return f"""
WITH taken AS ({source}),
fanned AS NOT MATERIALIZED (
    SELECT m.kind, m.team_id, m.business_seconds, m.calendar_seconds, {", ".join(f"m.{c}" for c in COUNTS)},
           g.grouping, g.key, p.span, p.day
    FROM taken m
    CROSS JOIN LATERAL (VALUES {_FAN_OUT}) AS g(grouping, key)
    CROSS JOIN LATERAL (VALUES (1, m.day), (7, m.day - (extract(isodow FROM m.day)::int - 1))) AS p(span, day)
), cells AS (
    SELECT {cell}, {sums} FROM fanned GROUP BY {cell}
), bins AS (
    SELECT {cell}, c.clock, reports_sla_bucket(c.seconds)::text AS bucket, sum(f.timed) AS n
    FROM fanned f
    CROSS JOIN LATERAL (VALUES ('b', f.business_seconds), ('c', f.calendar_seconds)) AS c(clock, seconds)
    WHERE f.timed <> 0 AND c.seconds IS NOT NULL
    GROUP BY {cell}, c.clock, reports_sla_bucket(c.seconds) HAVING sum(f.timed) <> 0
), histograms AS (
    SELECT {cell},
           jsonb_object_agg(bucket, n) FILTER (WHERE clock = 'b') AS business,
           jsonb_object_agg(bucket, n) FILTER (WHERE clock = 'c') AS calendar
    FROM bins GROUP BY {cell}
), written AS (
    INSERT INTO {ROLLUP} ({cell}, {counts}, business, calendar)
    SELECT {cell}, {counts}, coalesce(h.business, '{{}}'), coalesce(h.calendar, '{{}}')
    FROM cells LEFT JOIN histograms h USING (grouping, span, day, team_id, kind, key)
    ON CONFLICT ({cell}) DO UPDATE SET {added},
        business = CASE WHEN excluded.business = '{{}}' THEN {ROLLUP}.business
                        ELSE reports_sla_histogram_add({ROLLUP}.business, excluded.business) END,
        calendar = CASE WHEN excluded.calendar = '{{}}' THEN {ROLLUP}.calendar
                        ELSE reports_sla_histogram_add({ROLLUP}.calendar, excluded.calendar) END
    RETURNING 1
)
SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM written)
"""
