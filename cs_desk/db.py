"""Database expressions Django does not ship, for the reports and scorecards
(computed in PostgreSQL, never by a second definition in Python)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import Aggregate, DurationField, ExpressionWrapper, F, FloatField, Func, IntegerField


class PercentileCont(Aggregate):
    """``percentile_cont(p) WITHIN GROUP (ORDER BY expression)``: the
    interpolated percentile of a group (p = 0.5 is the median). Accepts
    ``filter=`` like any aggregate (PostgreSQL's ``FILTER (WHERE …)``)."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra):
        fraction = float(percentile)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction between 0 and 1.")
        # A float literal in the SQL: float() above means nothing else can get in.
        super().__init__(expression, percentile=repr(fraction), **extra)


class PercentilesCont(Aggregate):
    """``percentile_cont(ARRAY[p1, p2, …]) WITHIN GROUP (ORDER BY expression)``:
    several percentiles of a group from one sort, as a list (None for an empty
    group). Accepts ``filter=``."""

    function = "percentile_cont"
    name = "PercentilesCont"
    template = "%(function)s(ARRAY[%(percentiles)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())

    def __init__(self, expression, percentiles: Sequence[float], **extra):
        fractions = [float(p) for p in percentiles]
        if not fractions or not all(0 <= p <= 1 for p in fractions):
            raise ValueError("Percentiles are fractions between 0 and 1.")
        super().__init__(expression, percentiles=", ".join(repr(p) for p in fractions), **extra)


class Epoch(Func):
    """Seconds in an interval (``EXTRACT(EPOCH FROM …)``) as a float."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def seconds_between(start: str, end: str) -> Epoch:
    """Seconds from the field ``start`` to the field ``end`` of each row."""
    return Epoch(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))


class Grouping(Func):
    """``GROUPING(a, b, …)``: in a query grouped by several grouping sets, the
    bitmask of the listed columns *not* grouped in a row's set (so a row of the
    set (b) has GROUPING(a, b) = 2). Counts as an aggregate: never grouped by."""

    function = "GROUPING"
    contains_aggregate = True
    output_field = IntegerField()


_GROUP_BY_POSITIONS = re.compile(r"GROUP BY ((?:\d+, )*\d+)\s*$")


def grouping_sets_rows(queryset, sets: Sequence[Sequence[int]]) -> list[dict]:
    """Run an aggregate ``queryset`` (``.values(…).annotate(…)``, whose GROUP BY
    Django writes as column positions) grouped by ``GROUPING SETS`` instead of
    plainly: one scan for several groupings. ``sets`` are tuples of 1-based
    positions of the values() columns, e.g. ((1, 2), (2,)). Returns dicts keyed
    like the queryset's rows."""
    sql, params = queryset.query.sql_with_params()
    match = _GROUP_BY_POSITIONS.search(sql)
    if match is None:
        raise ValueError("The query does not end with a GROUP BY of column positions.")
    clause = ", ".join("(" + ", ".join(str(int(p)) for p in group) + ")" for group in sets)
    sql = sql[: match.start()] + f"GROUP BY GROUPING SETS ({clause})"
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
