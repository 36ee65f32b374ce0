"""The SLA report's rollups: per-day and per-week counts and histograms of the
SLA targets, kept by the database itself (docs/reports.md).

Nothing in Python writes a target's share: triggers on the targets and tickets
tables append every change's signed share to ``SLAChange`` in the writer's own
transaction, whatever wrote it (a service, the sweep's COPY and UPDATE … FROM,
the admin, a test's ``objects.create``); ``reports.rollups.rollups_compact``
folds the ledger into ``SLARollup``, and the report reads
both, so it is never behind. ``reports_rollup_rebuild`` recomputes everything
from the targets. The rows are derived data: no foreign keys (deleting a team or
a user must not wait on them), ids as plain integers.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class _Share(models.Model):
    """A target's share of the figures: how many targets, and of them met (on time),
    breached, open (owed, not breached), with a warning, level 1, level 2 reached,
    and met at all (``timed``, whose clock seconds the percentiles read)."""

    day = models.DateField()
    kind = models.CharField(max_length=20)
    team_id = models.BigIntegerField()
    targets = models.IntegerField(default=0)
    met = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    warnings = models.IntegerField(default=0)
    level1 = models.IntegerField(default=0)
    level2 = models.IntegerField(default=0)
    timed = models.IntegerField(default=0)

    class Meta:
        abstract = True


class SLAChange(_Share):
    """The ledger: one row per change of a target's share, +1 for its share after
    the change, -1 for its share before (counts and ``timed`` carry the sign),
    keyed by every grouping of the report. Append-only, so writers never wait on
    one another; emptied by ``rollups_compact``."""

    priority = models.CharField(max_length=10)
    category_id = models.BigIntegerField()
    assignee_id = models.BigIntegerField(null=True)
    merchant_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10)
    business_seconds = models.IntegerField(null=True)
    calendar_seconds = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.met:+d}"


class SLARollup(_Share):
    """The targets whose clock started in the ``span`` days from ``day`` (a day,
    or a week from Monday, in the rollup zone), per kind, per team, and per group
    of one grouping (``key``: the id or code, "" for none); every target is
    counted once in each grouping. With the counts, the met targets' clock
    seconds as histograms (``{bucket: count}``, log-spaced buckets:
    ``reports.rollups.bucket_value``) in business and in calendar time."""

    grouping = models.CharField(max_length=10)
    span = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=20)
    business = models.JSONField(default=dict)
    calendar = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grouping", "span", "day", "team_id", "kind", "key"], name="sla_rollup_unique"
            ),
            models.CheckConstraint(condition=Q(span__in=(1, 7)), name="sla_rollup_span_day_or_week"),
        ]

    def __str__(self) -> str:
        return f"{self.day}+{self.span} {self.grouping}={self.key} {self.kind}"
