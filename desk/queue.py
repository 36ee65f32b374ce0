"""The agent queue: which tickets, in which order, with which filters.

Order: open tickets overdue first (the most overdue on top), then by the
soonest due target, ties by creation. Pages are fetched one row past their
size instead of counted, so a page costs the same with a thousand tickets or
a million (the partial index ``ticket_open_order_idx`` serves the order). A
search is a condition each branch of which an index answers
(``tickets.selectors.ticket_search``), so it never walks the open tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Case, F, OuterRef, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from desk.widgets import quick_selects
from tickets.access import sees_everything, tickets_visible_to, user_team_ids, user_teams
from tickets.models import OPEN_STATUSES, Category, SLATarget, Team, Ticket
from tickets.search import ticket_search

PAGE_SIZE = 50

# The saved views: a name and the filters it stands for.
SAVED_VIEWS = {
    "mine": (_("My tickets"), {"assignee": "me"}),
    "unassigned": (_("Unassigned"), {"assignee": "none"}),
    "overdue": (_("Overdue"), {"overdue": "true"}),
    "escalated": (_("Newly escalated"), {"escalated": "recent"}),
    "due_today": (_("Due today"), {"due": "today"}),
    "awaiting_merchant": (_("Awaiting merchant"), {"status": "awaiting_merchant"}),
    "pending": (_("Pending consumer"), {"status": "pending"}),
}


class QueueFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=Ticket.Status.choices, empty_label=_("All open"))
    # "Any", not Django's "---------", where a filter is not set.
    priority = django_filters.ChoiceFilter(label=_("priority"), choices=Ticket.Priority.choices, empty_label=_("Any"))
    category = django_filters.ModelChoiceFilter(
        label=_("category"), queryset=Category.objects.all(), empty_label=_("Any")
    )
    team = django_filters.ModelChoiceFilter(label=_("team"), queryset=Team.objects.all(), empty_label=_("Any"))
    assignee = django_filters.ChoiceFilter(
        label=_("assignee"),
        choices=[("me", _("Me")), ("none", _("Unassigned"))],
        empty_label=_("Anyone"),
        method="filter_assignee",
    )
    merchant = django_filters.CharFilter(label=_("shop id"), field_name="merchant__shop_id", lookup_expr="iexact")
    overdue = django_filters.BooleanFilter(
        label=_("overdue"),
        field_name="is_overdue",
        widget=forms.Select(choices=[("", "—"), ("true", _("Overdue only")), ("false", _("Not overdue"))]),
    )
    due = django_filters.ChoiceFilter(
        label=_("due"), choices=[("today", _("Due today"))], empty_label="—", method="filter_due"
    )
    escalated = django_filters.ChoiceFilter(
        label=_("escalated"),
        choices=[("recent", _("In the last 24 hours, newest first"))],
        empty_label="—",
        method="filter_escalated",
    )
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Ticket.Channel.choices, empty_label=_("Any"))
    q = django_filters.CharFilter(label=_("search"), method="filter_search")

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        teams = None
        if user is not None and not sees_everything(user):
            self.filters["team"].queryset = Team.objects.filter(pk__in=user_team_ids(user))
            teams = user_teams(user)
        self.filters["category"].queryset = Category.objects.order_by("sort_order", "code")
        quick_selects(self.form)
        if teams is not None:
            # The user's teams are known already (tickets.access): the select costs no query.
            field = self.form.fields["team"]
            field.widget.choices = [("", field.empty_label), *teams]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        return queryset

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "me":
            return queryset.filter(assignee=self.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset

    def filter_due(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value != "today":
            return queryset
        tz = ZoneInfo(settings.TIME_ZONE)
        today = timezone.localtime(timezone.now(), tz).date()
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
        # Due before the end of today, overdue ones included: all of it needs doing today.
        return queryset.filter(due_at__lt=end)

    def filter_escalated(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value != "recent":
            return queryset
        return queryset.filter(escalated_at__gte=timezone.now() - RECENTLY_ESCALATED)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(ticket_search(value)) if value.strip() else queryset


@dataclass
class QueuePage:
    rows: list[Ticket]
    number: int
    has_next: bool
    filter: QueueFilter

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _warn_at():
    """When the soonest-due running target of each ticket warns (its first ladder
    step); a target already past its warning reports its start, i.e. the past."""
    target = (
        SLATarget.objects.filter(ticket=OuterRef("pk"), status=SLATarget.Status.RUNNING)
        .order_by("due_at")
        .annotate(warn=Case(When(steps_taken__gte=1, then=F("started_at")), default=F("next_step_at")))
        .values("warn")[:1]
    )
    return Subquery(target)


QUEUE_ORDER = ("-is_overdue", F("due_at").asc(nulls_last=True), "created_at", "pk")
# "Newly escalated": what the sweep escalated in the last day, the latest on top, so that
# a fresh breach is never under the older overdue tickets.
RECENTLY_ESCALATED = timedelta(hours=24)
ESCALATED_ORDER = (F("escalated_at").desc(nulls_last=True), "pk")


def queue_queryset(
    *, user, params, filterset_class: type[QueueFilter] = QueueFilter
) -> tuple[QueueFilter, QuerySet[Ticket]]:
    """The tickets ``user`` may see, filtered by ``params`` (a QueryDict), in
    queue order: what the queue pages through and the export writes out (and the
    API lists, with a subclass of the filters that names things its way)."""
    queryset = tickets_visible_to(user)
    filterset = filterset_class(params, queryset=queryset, user=user)
    valid = filterset.is_valid()
    rows_qs = filterset.qs if valid else queryset.filter(status__in=OPEN_STATUSES)
    escalated = valid and filterset.form.cleaned_data.get("escalated") == "recent"
    return filterset, rows_qs.order_by(*(ESCALATED_ORDER if escalated else QUEUE_ORDER))


def queue_page(*, user, params, page: int = 1, size: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue as ``user`` may see it. One query for the rows,
    whatever the page size."""
    filterset, rows_qs = queue_queryset(user=user, params=params)
    page = max(page, 1)
    start = (page - 1) * size
    rows = list(
        rows_qs.select_related("category", "assignee", "merchant").annotate(warn_at=_warn_at())[
            start : start + size + 1
        ]
    )
    return QueuePage(rows=rows[:size], number=page, has_next=len(rows) > size, filter=filterset)
