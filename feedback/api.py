"""Feedback and satisfaction surveys in the API (/api/v1/feedback, /api/v1/surveys).

Anyone may send feedback (rate-limited per address, like the form); reading
it and marking it handled is for report readers (``tickets.view_reports``).
Surveys are read by report readers, each seeing those of the tickets they may
see; consumers answer them through /api/v1/track/{token}/survey."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from cs_desk.api import NewestFirst, StrictSerializer
from cs_desk.ratelimit import client_ip, rate_limits_check, rate_limits_count
from feedback.models import Feedback, Survey
from feedback.services import feedback_mark, feedback_submit
from tickets.access import reads_reports, scoped
from tickets.privacy import mask_email


class ReadsReports(BasePermission):
    message = "Only report readers (managers, supervisors, or those granted tickets.view_reports)."

    def has_permission(self, request: Request, view) -> bool:
        return reads_reports(request.user)


class FeedbackSerializer(serializers.ModelSerializer):
    contact = serializers.SerializerMethodField()
    handled_by = serializers.CharField(source="handled_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Feedback
        fields = ["id", "topic", "body", "contact", "language", "is_flagged", "handled_at", "handled_by", "created_at"]
        read_only_fields = fields

    def get_contact(self, feedback: Feedback) -> str:
        """Masked (138****5678, l***@qq.com)."""
        return mask_email(feedback.contact)


class FeedbackCreateSerializer(StrictSerializer):
    topic = serializers.ChoiceField(choices=Feedback.Topic.choices)
    body = serializers.CharField(max_length=2_000)
    contact = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class FeedbackReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "topic", "created_at"]
        read_only_fields = fields


class FeedbackMarkSerializer(StrictSerializer):
    handled = serializers.BooleanField()


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise ValidationError({name: [_("Use true or false.")]})
    return value == "true"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("topic", str, enum=Feedback.Topic.values),
            OpenApiParameter("handled", bool),
            OpenApiParameter("flagged", bool, description="Only feedback an alert word flagged."),
        ],
        summary="Feedback, newest first (report readers)",
        description="Suggestions sent with the public feedback form or this API, newest first, the sender's "
        "contact masked; filtered by topic, handled or not, and flagged by an alert word.",
    ),
    create=extend_schema(
        request=FeedbackCreateSerializer,
        responses={201: FeedbackReceiptSerializer},
        summary="Send feedback (anyone; rate-limited per address)",
        description="A suggestion for the platform, from anyone, like the public feedback form: checked for "
        "alert words (flagged feedback is emailed to the managers) and limited per client address.",
    ),
    partial_update=extend_schema(
        request=FeedbackMarkSerializer,
        responses=FeedbackSerializer,
        summary="Mark handled, or not yet",
        description="Mark one piece of feedback handled (by you, now) or back to not handled.",
    ),
)
class FeedbackViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = FeedbackSerializer
    pagination_class = NewestFirst
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_permissions(self):
        return [AllowAny()] if self.action == "create" else [ReadsReports()]

    def get_queryset(self):
        rows = Feedback.objects.select_related("handled_by")
        topic = self.request.query_params.get("topic")
        if topic is not None:
            if topic not in Feedback.Topic.values:
                raise ValidationError({"topic": [_("Unknown topic.")]})
            rows = rows.filter(topic=topic)
        handled = _flag(self.request, "handled")
        if handled is not None:
            rows = rows.filter(handled_at__isnull=not handled)
        if _flag(self.request, "flagged"):
            rows = rows.filter(is_flagged=True)
        return rows

    def create(self, request: Request) -> Response:
        data = FeedbackCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verdict = rate_limits_check([("feedback_ip", client_ip(request._request))])
        if not verdict.allowed:
            raise Throttled(wait=verdict.retry_after, detail=_("Too much feedback from your address; try later."))
        fields = data.validated_data
        feedback = feedback_submit(
            topic=fields["topic"],
            body=fields["body"],
            contact=fields["contact"],
            language=fields.get("language") or get_language() or settings.LANGUAGE_CODE,
        )
        rate_limits_count([("feedback_ip", client_ip(request._request))])
        return Response(FeedbackReceiptSerializer(feedback).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        feedback = self.get_object()
        data = FeedbackMarkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = feedback_mark(feedback=feedback, handled=data.validated_data["handled"], by=request.user)
        return Response(FeedbackSerializer(feedback).data)


class SurveySerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.reference", read_only=True)
    team = serializers.CharField(source="team.name", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True, allow_null=True, default=None)
    agent = serializers.CharField(source="agent.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Survey
        fields = ["id", "ticket", "resolution", "rating", "comment", "team", "category", "agent", "created_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("rating", int, enum=[1, 2, 3, 4, 5])],
        summary="Satisfaction answers, newest first (report readers; the tickets you may see)",
        description="The consumers' ratings (1–5) and comments of resolved tickets, newest first, each with the "
        "ticket's reference, team, category and agent; only those of the tickets you may see.",
    )
)
class SurveyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = SurveySerializer
    pagination_class = NewestFirst
    permission_classes = [ReadsReports]

    def get_queryset(self):
        rows = scoped(Survey.objects.all(), self.request.user, "ticket__")
        rating = self.request.query_params.get("rating")
        if rating is not None:
            if rating not in {"1", "2", "3", "4", "5"}:
                raise ValidationError({"rating": [_("Give a rating from 1 to 5.")]})
            rows = rows.filter(rating=int(rating))
        return rows.select_related("ticket", "team", "category", "agent")
