"""The staff ticket API (/api/v1/tickets/…, /api/v1/categories, /api/v1/sla/preview).

Who may do what is the desk's rule (``tickets.access``): a ticket outside the
caller's teams answers 404 exactly like one that does not exist; reading needs
a staff user (agents, supervisors, managers), changing needs one who works
tickets (agents, supervisors). Every change goes through ``tickets.services``,
so the SLA clock, the audit trail, notifications and webhooks follow."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cs_desk.api import NewestFirst, OldestFirst
from desk.api.serializers import (
    AttachmentSerializer,
    CategorySerializer,
    MessageCreateSerializer,
    MessageSerializer,
    SLAPreviewQuerySerializer,
    SLAPreviewSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)
from desk.queue import queue_queryset
from tickets import services
from tickets.access import assignable_users, can_work, is_staff_user, tickets_visible_to
from tickets.evidence import evidence_response
from tickets.models import Attachment, Message, Ticket
from tickets.selectors import complaint_categories, parse_instant, sla_preview

EVIDENCE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


class WorksTickets(BasePermission):
    """Reading: any staff user. Changing: agents and supervisors (managers read)."""

    message = "Only agents and supervisors change tickets; managers read them."

    def has_permission(self, request: Request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return is_staff_user(request.user)
        return can_work(request.user)


class SLAPreviewView(APIView):
    """When each target of a ticket filed at ``at`` would be due, on the SLA
    calendar (make-up working days included), and which policy gives them: by
    ``priority``, or ``category`` and ``channel``. Public: it reveals only the
    policies (never one chosen by merchant)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[SLAPreviewQuerySerializer], responses=SLAPreviewSerializer, operation_id="sla_preview")
    def get(self, request: Request) -> Response:
        at = parse_instant(request.query_params.get("at"))
        params = request.query_params
        return Response(
            sla_preview(
                at=at, priority=params.get("priority"), category=params.get("category"), channel=params.get("channel")
            )
        )


class CategoryListView(APIView):
    """The active complaint categories, in the order the complaint form shows
    them, each with its team, default priority and promise (in the language of
    Accept-Language). Public: the complaint form shows the same."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CategorySerializer(many=True), operation_id="categories_list")
    def get(self, request: Request) -> Response:
        rows = complaint_categories()
        promises = {c.pk: str(promise) for c, promise in rows}
        return Response(CategorySerializer([c for c, _ in rows], many=True, context={"promises": promises}).data)


QUEUE_PARAMETERS = [
    OpenApiParameter("status", str, enum=Ticket.Status.values, description="Default: every open status."),
    OpenApiParameter("priority", str, enum=Ticket.Priority.values),
    OpenApiParameter("category", int, description="Category id."),
    OpenApiParameter("team", int, description="Team id (one of yours)."),
    OpenApiParameter("assignee", str, enum=["me", "none"]),
    OpenApiParameter("merchant", str, description="Shop id."),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("due", str, enum=["today"]),
    OpenApiParameter("channel", str, enum=Ticket.Channel.values),
    OpenApiParameter("q", str, description="Reference, order number, words of the subject, phone or email."),
]


def _check_queue_params(params) -> None:
    """What the desk's filter form forgives, the API refuses: an empty value for
    a parameter with fixed values, a yes/no that is not true or false."""
    errors = {}
    for name in ("status", "priority", "category", "team", "assignee", "due", "channel", "overdue"):
        if name in params and params[name] == "":
            errors[name] = [_("Leave the parameter out rather than empty.")]
    if params.get("overdue", "true") not in ("true", "false"):
        errors["overdue"] = [_("Use true or false.")]
    if errors:
        raise ValidationError(errors)


@extend_schema_view(
    list=extend_schema(parameters=QUEUE_PARAMETERS, summary="Tickets you may see, filtered like the queue"),
    retrieve=extend_schema(summary="One ticket, with the consumer's contact and its SLA targets"),
    create=extend_schema(
        request=TicketCreateSerializer,
        responses={201: TicketDetailSerializer},
        summary="File a complaint that came by chat, the app, phone or email",
    ),
    partial_update=extend_schema(
        request=TicketUpdateSerializer,
        responses=TicketDetailSerializer,
        summary="Change status, priority or assignee (all or nothing)",
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Tickets the caller may see (the desk's visibility rule), newest first,
    with a cursor that stays stable while tickets are added. Filters are the
    queue's; a value it does not accept answers 400 naming the parameter."""

    permission_classes = [WorksTickets]
    pagination_class = NewestFirst
    serializer_class = TicketSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        tickets = tickets_visible_to(self.request.user)
        if self.action == "list":
            _check_queue_params(self.request.query_params)
            filterset, tickets = queue_queryset(user=self.request.user, params=self.request.query_params)
            if not filterset.is_valid():
                raise ValidationError(filterset.errors)
        elif self.action == "retrieve":
            tickets = tickets.prefetch_related("targets__policy")
        return tickets.select_related("category", "team", "merchant", "assignee")

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def _ticket(self, pk) -> Ticket:
        try:
            return tickets_visible_to(self.request.user).select_related("team").get(pk=int(pk))
        except (ValueError, TypeError, Ticket.DoesNotExist) as exc:
            raise Http404 from exc

    def _detail(self, ticket: Ticket, code=status.HTTP_200_OK) -> Response:
        fresh = Ticket.objects.prefetch_related("targets__policy").select_related(
            "category", "team", "merchant", "assignee"
        )
        return Response(TicketDetailSerializer(fresh.get(pk=ticket.pk)).data, status=code)

    def create(self, request: Request) -> Response:
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_create(author=request.user, **data.validated_data)
        return self._detail(ticket, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        ticket = self._ticket(pk)
        data = TicketUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if changes.get("assignee") is not None:
            # The username names one of those the ticket may go to; the service checks again under its lock.
            changes["assignee"] = assignable_users(request.user, ticket).filter(username=changes["assignee"]).first()
            if changes["assignee"] is None:
                raise ValidationError(
                    {"assignee": [_("No member or supervisor of this ticket's team has this username.")]}
                )
        ticket = services.ticket_update(ticket=ticket, actor=request.user, **changes)
        return self._detail(ticket)

    @extend_schema(
        methods=["GET"],
        responses=MessageSerializer(many=True),
        summary="The conversation, internal notes included, oldest first",
    )
    @extend_schema(
        methods=["POST"],
        request={"application/json": MessageCreateSerializer, "multipart/form-data": MessageCreateSerializer},
        responses={201: MessageSerializer},
        summary="Reply to the consumer, or add an internal note (with files, as multipart)",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="messages",
        parser_classes=[JSONParser, MultiPartParser, FormParser],
        pagination_class=OldestFirst,
    )
    def messages(self, request: Request, pk=None) -> Response:
        ticket = self._ticket(pk)
        if request.method == "GET":
            rows = Message.objects.filter(ticket=ticket).select_related("author").prefetch_related("attachments")
            page = self.paginate_queryset(rows)  # OldestFirst orders them
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        payload, form = request.data, hasattr(request.data, "getlist")
        if form:  # multipart: files may repeat
            payload = {key: payload.getlist(key) if key == "files" else payload[key] for key in payload}
        data = MessageCreateSerializer(data=payload, context={"form": form})
        data.is_valid(raise_exception=True)
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data.validated_data["body"],
            public=not data.validated_data["internal"],
            evidence=data.validated_data["files"],
        )
        message = Message.objects.select_related("author").prefetch_related("attachments").get(pk=message.pk)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=AttachmentSerializer(many=True), summary="Files sent with the ticket's messages")
    @action(detail=True, methods=["get"], url_path="attachments", pagination_class=OldestFirst)
    def attachments(self, request: Request, pk=None) -> Response:
        ticket = self._ticket(pk)
        page = self.paginate_queryset(Attachment.objects.filter(ticket=ticket))
        return self.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The file") for media in EVIDENCE_TYPES
        },
        summary="Download one file (images inline, PDFs as attachments)",
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)/download")
    def download(self, request: Request, pk=None, attachment_id=None) -> Response:
        ticket = self._ticket(pk)
        attachment = Attachment.objects.filter(ticket=ticket, pk=int(attachment_id)).first()
        if attachment is None:
            raise Http404
        return evidence_response(attachment)
