"""The merchant API (/api/v1/merchant/): the portal's actions for a shop's own
tools, with a merchant API token (``Authorization: Bearer <key>``) or the
portal's session. Same rule as the portal (``merchants.access``): a complaint
that is not this shop's, or not forwarded to it, answers 404."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ReadOnlyModelViewSet

from cs_desk.api import NewestFirst
from merchants.access import complaint_for, forward_notes, merchant_of, public_conversation
from merchants.api.serializers import (
    ComplaintDetailSerializer,
    ComplaintSerializer,
    PublicMessageSerializer,
    ReplySerializer,
    ScorecardSerializer,
)
from merchants.selectors import awaiting_reply, merchant_penalties, portal_complaints, scorecard_of
from tickets import services
from tickets.models import Ticket


class IsMerchantUser(BasePermission):
    message = "Only a merchant's users and tokens may use the merchant API."

    def has_permission(self, request: Request, view) -> bool:
        merchant = merchant_of(request.user)
        request.merchant = merchant
        return merchant is not None


class MerchantAPIMixin:
    permission_classes = [IsMerchantUser]


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("state", str, enum=["owed"], description="Only those awaiting your reply.")],
        summary="Complaints forwarded to your shop",
        description="The complaints the platform forwarded to your shop: those awaiting your reply first, the "
        "soonest deadline first, then the others, the latest forwarded first. The consumer's phone and email "
        "are masked.",
    ),
    retrieve=extend_schema(
        summary="One complaint, with the conversation the consumer sees",
        description="One complaint forwarded to your shop: the public conversation (never the platform's "
        "internal notes) and what the platform wrote when forwarding it. Another shop's complaint, or one not "
        "forwarded to you, answers 404.",
    ),
)
class ComplaintViewSet(MerchantAPIMixin, ReadOnlyModelViewSet):
    """Complaints forwarded to your shop, newest first; ``?state=owed`` for
    those still awaiting your reply. ``POST …/{id}/replies/`` with
    ``{"body": "…"}`` answers one: the reply joins the consumer's conversation
    and meets the 24-hour deadline."""

    pagination_class = NewestFirst
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no merchant
            return Ticket.objects.none()
        state = self.request.query_params.get("state")
        if state not in (None, "owed"):
            raise ValidationError({"state": [_("Use state=owed, or leave it out.")]})
        owed = state == "owed"
        return portal_complaints(self.request.merchant, owed_only=owed).order_by("-created_at", "-id")

    def get_serializer_class(self):
        return ComplaintDetailSerializer if self.action == "retrieve" else ComplaintSerializer

    def _complaint(self, pk, rows=None):
        ticket = complaint_for(self.request.merchant, pk, rows=rows)
        if ticket is None:
            raise Http404
        return ticket

    def retrieve(self, request: Request, pk=None) -> Response:
        ticket = self._complaint(pk, rows=portal_complaints(request.merchant, owed_only=False))
        context = {"conversation": public_conversation(ticket), "notes": forward_notes(ticket)}
        return Response(ComplaintDetailSerializer(ticket, context=context).data)

    @extend_schema(request=ReplySerializer, responses={201: PublicMessageSerializer}, summary="Answer a complaint")
    @action(detail=True, methods=["post"], url_path="replies")
    def replies(self, request: Request, pk=None) -> Response:
        """Answer a complaint: the reply joins the consumer's conversation, meets your 24-hour deadline and
        tells the platform's agent."""
        ticket = self._complaint(pk)
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.ticket_merchant_reply(
            ticket=ticket, author=request.user, body=serializer.validated_data["body"]
        )
        return Response(PublicMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ScorecardView(MerchantAPIMixin, APIView):
    """Your shop's score, reply rate, median reply time, strikes and penalties."""

    @extend_schema(responses=ScorecardSerializer, operation_id="merchant_scorecard")
    def get(self, request: Request) -> Response:
        merchant = request.merchant
        context = {"merchant": merchant, "penalties": merchant_penalties(merchant), "pending": awaiting_reply(merchant)}
        return Response(ScorecardSerializer(scorecard_of(merchant), context=context).data)
