"""The consumer's API (/api/v1/track/{token}…): what the tracking page offers,
for the marketplace's app. The secret tracking token (from the confirmation
email or page) is the only key: it opens that one ticket, and any other token
answers 404. Same rate limits as the page."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cs_desk.api import StrictSerializer, by_rule
from cs_desk.ratelimit import GuessesExceeded, client_ip, guess_guarded, rate_limits_check, rate_limits_count
from feedback.services import survey_resolution, survey_submit
from tickets import services
from tickets.models import Ticket
from tickets.rules import message_clean
from tickets.selectors import public_author_label, ticket_for_token, ticket_promised, ticket_public_conversation


class ConsumerMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(help_text="“You”, “Customer service · alias”, the shop's name or “Notice”.")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class TrackedTicketSerializer(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    category = serializers.CharField()
    response_due = serializers.DateTimeField(allow_null=True, help_text="When we promised to reply, if we owe one.")
    resolution_due = serializers.DateTimeField(allow_null=True)
    can_reply = serializers.BooleanField()
    survey_open = serializers.BooleanField(help_text="True when the latest resolution waits for a rating.")
    messages = ConsumerMessageSerializer(many=True)
    created_at = serializers.DateTimeField()


class ConsumerReplySerializer(StrictSerializer):
    body = serializers.CharField(help_text="At most MESSAGE_MAX_CHARS characters (10,000 by default).")

    def validate_body(self, body: str) -> str:
        return by_rule(message_clean, body)


class SurveyAnswerSerializer(StrictSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2_000, required=False, allow_blank=True, default="")


class SurveyReceiptSerializer(serializers.Serializer):
    rating = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class _TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def ticket(self, token: str) -> Ticket:
        """The ticket ``token`` opens; an address that guessed too many tokens is
        throttled (429), right tokens included, like the tracking page."""
        try:
            ticket = guess_guarded(
                "token_guess", client_ip(self.request._request), lambda: ticket_for_token(token=token)
            )
        except GuessesExceeded as exc:
            raise Throttled(
                wait=exc.verdict.retry_after, detail=_("Too many unknown tracking links; please wait a little.")
            ) from exc
        if ticket is None:
            raise Http404
        return ticket


def tracked(ticket: Ticket) -> dict:
    response_due, resolution_due = ticket_promised(ticket=ticket)
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "category": ticket.category.name,
        "response_due": response_due,
        "resolution_due": resolution_due,
        "can_reply": ticket.status != Ticket.Status.CLOSED,
        "survey_open": survey_resolution(ticket=ticket) is not None,
        "messages": [
            {"id": m.pk, "author": public_author_label(m, ticket), "body": m.body, "created_at": m.created_at}
            for m in ticket_public_conversation(ticket=ticket)
        ],
        "created_at": ticket.created_at,
    }


class TrackView(_TokenView):
    @extend_schema(responses=TrackedTicketSerializer, operation_id="track_retrieve", summary="Your complaint")
    def get(self, request: Request, token: str) -> Response:
        """The complaint the tracking token opens, as its tracking page shows it: status, the promised reply
        and resolution times, and the public conversation. Any other token answers 404."""
        return Response(TrackedTicketSerializer(tracked(self.ticket(token))).data)


class TrackMessagesView(_TokenView):
    @extend_schema(
        request=ConsumerReplySerializer,
        responses={201: TrackedTicketSerializer},
        operation_id="track_messages_create",
        summary="Write to customer service (reopens a resolved complaint)",
    )
    def post(self, request: Request, token: str) -> Response:
        """The consumer writes again: a response is owed (a resolved complaint reopens). Rate-limited per
        address and per complaint, like the tracking page."""
        ticket = self.ticket(token)
        data = ConsumerReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        limits = [("reply_ip", client_ip(request._request)), ("reply_ticket", ticket.tracking_token)]
        verdict = rate_limits_check(limits)
        if not verdict.allowed:
            raise Throttled(wait=verdict.retry_after, detail=_("Too many messages; please wait a little."))
        services.ticket_consumer_message(ticket=ticket, body=data.validated_data["body"])
        rate_limits_count(limits)
        ticket.refresh_from_db()
        return Response(TrackedTicketSerializer(tracked(ticket)).data, status=status.HTTP_201_CREATED)


class TrackSurveyView(_TokenView):
    @extend_schema(
        request=SurveyAnswerSerializer,
        responses={201: SurveyReceiptSerializer},
        operation_id="track_survey_create",
        summary="Rate the latest resolution (once)",
    )
    def post(self, request: Request, token: str) -> Response:
        """The consumer rates the latest resolution, 1 to 5, with an optional comment; once per resolution."""
        ticket = self.ticket(token)
        data = SurveyAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        survey = survey_submit(ticket=ticket, **data.validated_data)
        return Response(SurveyReceiptSerializer(survey).data, status=status.HTTP_201_CREATED)
