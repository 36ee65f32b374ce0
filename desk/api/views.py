"""The staff ticket API (/api/v1/tickets/…, /api/v1/categories, /api/v1/sla/preview).

Who may do what is the desk's rule (``tickets.access``): a ticket outside the
caller's teams answers 404 exactly like one that does not exist; reading needs
a staff user (agents, supervisors, managers), changing needs one who works
tickets (agents, supervisors). Every change goes through ``tickets.services``,
so the SLA clock, the audit trail, notifications and webhooks follow."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
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
    MessageCreateWithFilesSerializer,
    MessageSerializer,
    SLAPreviewQuerySerializer,
    SLAPreviewSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)
from desk.queue import QueueFilter, queue_queryset
from tickets import services
from tickets.access import assignable_users, can_work, is_staff_user, tickets_visible_to
from tickets.evidence import evidence_response, file_response
from tickets.models import Attachment, Category, Message, Team, Ticket
from tickets.selectors import complaint_categories, parse_instant, sla_preview

EVIDENCE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
# Any file, as bytes: what a download is served as when the request's Accept asks for it.
OCTET_STREAM = "application/octet-stream"


class WorksTickets(BasePermission):
    """Reading: any staff user. Changing: agents and supervisors (managers read)."""

    message = "Only agents and supervisors change tickets; managers read them."

    def has_permission(self, request: Request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return is_staff_user(request.user)
        return can_work(request.user)


class FileNegotiation(BaseContentNegotiation):
    """A download answers in the file's type or as bytes (the view picks by the
    Accept header) and its errors in JSON, whatever Accept says: never 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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


def _enum(name: str) -> dict:
    """A parameter's schema: the choice set the tickets themselves carry (one enum for both)."""
    return {"$ref": f"#/components/schemas/{name}"}


QUEUE_PARAMETERS = [
    OpenApiParameter("status", _enum("TicketStatusEnum"), description="Default: every open status."),
    OpenApiParameter("priority", _enum("PriorityEnum")),
    OpenApiParameter("category", str, description="A category's code, as tickets show it (e.g. refund)."),
    OpenApiParameter("team", str, description="A team's name, as tickets show it (one of yours)."),
    OpenApiParameter("assignee", str, enum=["me", "none"]),
    OpenApiParameter("merchant", str, description="Shop id."),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("due", str, enum=["today"]),
    OpenApiParameter("channel", _enum("ChannelEnum")),
    OpenApiParameter("q", str, description="Reference, order number, words of the subject, phone or email."),
]


class ApiQueueFilter(QueueFilter):
    """The queue's filters, naming a category and a team as the API shows them
    (category code, team name) where the desk's form uses their ids."""

    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), to_field_name="code")
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), to_field_name="name")


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
    list=extend_schema(
        parameters=QUEUE_PARAMETERS,
        summary="Tickets you may see, filtered like the queue",
        description="Tickets the caller may see (the desk's visibility rule), newest first, with a cursor that "
        "stays stable while tickets are added. Filters are the queue's (status: every open one unless given); "
        "a value it does not accept answers 400 naming the parameter.",
    ),
    retrieve=extend_schema(
        summary="One ticket, with the consumer's contact and its SLA targets",
        description="The ticket as the desk shows it to those who work it: the consumer's name, phone and email "
        "in full, and each SLA target with its clock, due instant and escalation steps. A ticket you may not see "
        "answers 404, like a missing one.",
    ),
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
    queue's; a value it does not accept answers 400 naming the parameter. Each
    operation's schema description is its own (cs_desk.api.schema)."""

    permission_classes = [WorksTickets]
    pagination_class = NewestFirst
    serializer_class = TicketSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        tickets = tickets_visible_to(self.request.user)
        if self.action == "list":
            _check_queue_params(self.request.query_params)
            filterset, tickets = queue_queryset(
                user=self.request.user, params=self.request.query_params, filterset_class=ApiQueueFilter
            )
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
        """A complaint that reached the platform another way than the web form (the chat, the app, a phone
        call, an email), filed through the same intake: the same checks, SLA targets, acknowledgement and
        events. Agents and supervisors only. A phone call is assigned to the caller when it may be."""
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_create(author=request.user, **data.validated_data)
        return self._detail(ticket, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        """Change the status, the priority or the assignee (a username of the ticket's team, null to
        unassign), through the desk's services: the SLA clocks follow and each change is an event. All or
        nothing: if one change is refused, none is made."""
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
        description="Every message of the ticket, oldest first: the consumer's, the agents' replies and internal "
        "notes (internal: true), the merchant's, with the files sent with each.",
    )
    @extend_schema(
        methods=["POST"],
        request={"application/json": MessageCreateSerializer, "multipart/form-data": MessageCreateWithFilesSerializer},
        responses={201: MessageSerializer},
        summary="Reply to the consumer, or add an internal note (with files, as multipart)",
        description="A reply to the consumer (it meets the response owed) or, with internal true, a note only "
        "staff see. JSON without files; multipart/form-data with one part named files per file (pictures or "
        "PDFs, checked like every upload).",
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
            data = MessageCreateWithFilesSerializer(data=payload, context={"form": True})
        else:
            data = MessageCreateSerializer(data=payload)
        data.is_valid(raise_exception=True)
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data.validated_data["body"],
            public=not data.validated_data["internal"],
            evidence=data.validated_data.get("files", []),
        )
        message = Message.objects.select_related("author").prefetch_related("attachments").get(pk=message.pk)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=AttachmentSerializer(many=True), summary="Files sent with the ticket's messages")
    @action(detail=True, methods=["get"], url_path="attachments", pagination_class=OldestFirst)
    def attachments(self, request: Request, pk=None) -> Response:
        """The files sent with the ticket's messages, oldest first, each with its type, size, SHA-256 and the
        URL to download it from."""
        ticket = self._ticket(pk)
        page = self.paginate_queryset(Attachment.objects.filter(ticket=ticket))
        return self.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The file")
            for media in (OCTET_STREAM, *EVIDENCE_TYPES)
        },
        summary="Download one file (images inline, PDFs as attachments)",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
        content_negotiation_class=FileNegotiation,
    )
    def download(self, request: Request, pk=None, attachment_id=None) -> Response:
        """The file's bytes, in its own type (images inline, PDFs as attachments), or as
        application/octet-stream (an attachment) when the Accept header prefers that. The type and the
        SHA-256 are in the ticket's attachments list."""
        ticket = self._ticket(pk)
        attachment = Attachment.objects.filter(ticket=ticket, pk=int(attachment_id)).first()
        if attachment is None:
            raise Http404
        if request._request.get_preferred_type([attachment.content_type, OCTET_STREAM]) == OCTET_STREAM:
            return file_response(attachment.file.name, content_type=OCTET_STREAM, filename=attachment.original_name)
        return evidence_response(attachment)
