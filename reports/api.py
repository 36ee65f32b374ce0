"""The report figures as JSON (/api/v1/reports/…): the same selectors as the
report pages (reports.selectors, feedback.reports), for readers of the reports
(``tickets.view_reports``), each seeing the figures of the tickets they may
see. Days are counted in the reader's time zone. Unlike the pages, a bad
date is an error (400 naming the parameter), not a quiet fall-back."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.api import ReadsReports
from reports import selectors as reports
from reports.satisfaction import CSAT_GROUPINGS, Satisfaction, csat_by, csat_overall
from tickets.models import SLATarget, Ticket


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (YYYY-MM-DD). Default: 29 days before end.")
    end = serializers.DateField(required=False, help_text="Last day, included. Default: today.")

    def validate(self, attrs):
        problems = reports.period_problems(attrs.get("start"), attrs.get("end"))
        if problems:
            raise serializers.ValidationError({name: [message] for name, message in problems.items()})
        return attrs


class SLAQuerySerializer(PeriodQuerySerializer):
    group = serializers.ChoiceField(choices=list(reports.GROUPINGS), required=False, default="team")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    time_zone = serializers.CharField()


class TargetFiguresSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SLATarget.Kind.choices)
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    open = serializers.IntegerField(help_text="Clock started in the period, still running.")
    compliance = serializers.FloatField(allow_null=True, help_text="met ÷ (met + breached), in percent.")
    business_p50_s = serializers.FloatField(allow_null=True, help_text="Working seconds to meet the target, median.")
    business_p90_s = serializers.FloatField(allow_null=True)
    calendar_p50_s = serializers.FloatField(allow_null=True)
    calendar_p90_s = serializers.FloatField(allow_null=True)


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="Id or code of the group; null for none (unassigned …).")
    name = serializers.CharField()
    targets = TargetFiguresSerializer(many=True)
    warnings = serializers.IntegerField()
    level1 = serializers.IntegerField()
    level2 = serializers.IntegerField()


class DaySerializer(serializers.Serializer):
    day = serializers.DateField()
    tickets = serializers.IntegerField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True)


class EscalationsSerializer(serializers.Serializer):
    warnings = serializers.IntegerField()
    level1 = serializers.IntegerField()
    level2 = serializers.IntegerField()


class OverdueTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices)
    due_at = serializers.DateTimeField(allow_null=True)


class OverdueSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    tickets = OverdueTicketSerializer(many=True, help_text="The first 100, longest overdue first.")


class SLAReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    group_by = serializers.ChoiceField(choices=list(reports.GROUPINGS), help_text="What groups are made by.")
    summary = TargetFiguresSerializer(many=True)
    groups = GroupSerializer(many=True)
    escalations = EscalationsSerializer()
    days = DaySerializer(many=True)
    overdue = OverdueSerializer()


class BacklogRowSerializer(serializers.Serializer):
    age = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Open tickets per priority.")


class BacklogSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    rows = BacklogRowSerializer(many=True)
    breaching_4h = serializers.DictField(child=serializers.IntegerField())
    breaching_24h = serializers.DictField(child=serializers.IntegerField())


class ForecastSerializer(serializers.Serializer):
    first = serializers.DateField(help_text="The first day forecast (tomorrow).")
    weeks = serializers.IntegerField()
    since = serializers.DateField()
    grid = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), help_text="By weekday (0 = Monday) and hour."
    )


class VolumeSerializer(serializers.Serializer):
    period = PeriodSerializer()
    heatmap = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Complaints by weekday (0 = Monday) and hour, in your time zone.",
    )
    forecast = ForecastSerializer()


class SatisfactionFiguresSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    answers = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    satisfied = serializers.FloatField(allow_null=True, help_text="Share rating 4 or 5, in percent.")
    distribution = serializers.ListField(child=serializers.IntegerField(), help_text="Answers rating 1 … 5.")


class SatisfactionSerializer(serializers.Serializer):
    period = PeriodSerializer()
    overall = SatisfactionFiguresSerializer()
    by_category = SatisfactionFiguresSerializer(many=True)
    by_team = SatisfactionFiguresSerializer(many=True)
    by_agent = SatisfactionFiguresSerializer(many=True)


def _period(request: Request, query_class=PeriodQuerySerializer) -> tuple[reports.Period, dict]:
    query = query_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    zone = reports.reader_zone(request.user)
    period = reports.period_asked(
        query.validated_data.get("start"), query.validated_data.get("end"), now=timezone.now(), zone=zone
    )
    if period.first > period.last:
        raise serializers.ValidationError({"start": [_("The start date is after the end date.")]})
    return period, query.validated_data


def _period_data(period: reports.Period) -> dict:
    return {"start": period.first, "end": period.last, "time_zone": str(period.zone)}


def _figures(t: reports.TargetFigures) -> dict:
    return {
        "kind": t.kind,
        "met": t.met,
        "breached": t.breached,
        "open": t.open,
        "compliance": t.compliance,
        "business_p50_s": t.business[0],
        "business_p90_s": t.business[1],
        "calendar_p50_s": t.calendar[0],
        "calendar_p90_s": t.calendar[1],
    }


def _key(key) -> str | None:
    return None if key is None else str(key)


class _ReportView(APIView):
    permission_classes = [ReadsReports]


class SLAReportView(_ReportView):
    @extend_schema(parameters=[SLAQuerySerializer], responses=SLAReportSerializer, operation_id="reports_sla")
    def get(self, request: Request) -> Response:
        """The SLA report's figures for the period: per target met, breached and still open, compliance and
        the times to meet it; the same per group (``group``); escalations per level; tickets and compliance
        per day; the tickets overdue now."""
        period, query = _period(request, SLAQuerySerializer)
        grouping = reports.GROUPINGS[query["group"]]
        report = reports.sla_report(period=period, reader=request.user, grouping=grouping)
        trend = reports.sla_trend(period=period, reader=request.user, report=report)
        overdue, overdue_count = reports.overdue_tickets(reader=request.user)
        data = {
            "period": _period_data(period),
            "group_by": grouping.code,
            "summary": [_figures(t) for t in report.summary],
            "groups": [
                {
                    "key": _key(g.key),
                    "name": g.name,
                    "targets": [_figures(t) for t in g.targets],
                    "warnings": g.warnings,
                    "level1": g.level1,
                    "level2": g.level2,
                }
                for g in report.groups
            ],
            "escalations": report.escalated,
            "days": [
                {"day": d.day, "tickets": d.tickets, "met": d.met, "breached": d.breached, "compliance": d.compliance}
                for d in trend
            ],
            "overdue": {"count": overdue_count, "tickets": overdue},
        }
        return Response(SLAReportSerializer(data).data)


class BacklogView(_ReportView):
    @extend_schema(responses=BacklogSerializer, operation_id="reports_backlog")
    def get(self, request: Request) -> Response:
        """The open tickets now, by age and priority, and how many will breach within 4 and 24 hours."""
        backlog = reports.backlog(now=timezone.now(), reader=request.user)
        data = {
            "total": backlog.total,
            "rows": [
                {"age": label, "counts": cells} for label, cells in zip(backlog.buckets, backlog.cells, strict=True)
            ],
            "breaching_4h": backlog.breaching_4h,
            "breaching_24h": backlog.breaching_24h,
        }
        return Response(BacklogSerializer(data).data)


class VolumeView(_ReportView):
    @extend_schema(parameters=[PeriodQuerySerializer], responses=VolumeSerializer, operation_id="reports_volume")
    def get(self, request: Request) -> Response:
        """Complaints by weekday and hour over the period (in your time zone), and next week's forecast per
        hour (the mean of the same hour over the last weeks)."""
        period, _query = _period(request)
        outlook = reports.forecast(now=timezone.now(), zone=period.zone, reader=request.user)
        data = {
            "period": _period_data(period),
            "heatmap": reports.heatmap(period=period, reader=request.user),
            "forecast": {"first": outlook.first, "weeks": outlook.weeks, "since": outlook.since, "grid": outlook.grid},
        }
        return Response(VolumeSerializer(data).data)


def _satisfaction(s: Satisfaction) -> dict:
    return {
        "key": _key(s.key),
        "name": s.name,
        "answers": s.answers,
        "average": s.average,
        "satisfied": s.satisfied,
        "distribution": s.distribution,
    }


class SatisfactionView(_ReportView):
    @extend_schema(
        parameters=[PeriodQuerySerializer], responses=SatisfactionSerializer, operation_id="reports_satisfaction"
    )
    def get(self, request: Request) -> Response:
        """Satisfaction answers of the period: overall, and by category, team and agent (average rating, share
        of 4 and 5, the distribution)."""
        period, _query = _period(request)
        data = {
            "period": _period_data(period),
            "overall": _satisfaction(csat_overall(period=period, reader=request.user)),
        }
        for by in CSAT_GROUPINGS:
            data[f"by_{by}"] = [_satisfaction(s) for s in csat_by(period=period, reader=request.user, by=by)]
        return Response(SatisfactionSerializer(data).data)
