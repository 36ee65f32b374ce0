from rest_framework import viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.access import tickets_visible_to
from tickets.api.serializers import TicketSerializer
from tickets.queue import queue_queryset
from tickets.selectors import parse_instant, sla_preview


class SLAPreviewView(APIView):
    """``GET /api/v1/sla/preview?priority=<p>&at=<ISO-8601>``: when each target
    of a ticket filed then would be due. Public: it reveals only the policy."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        at = parse_instant(request.query_params.get("at"))
        return Response(sla_preview(priority=request.query_params.get("priority", ""), at=at))


class NewestFirst(CursorPagination):
    """Stable while tickets are added: a cursor, not a page number."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class TicketViewSet(viewsets.ReadOnlyModelViewSet):
    """Tickets the caller may see (the desk's visibility rule, ``tickets.access``),
    filtered like the queue (``status``, ``priority``, ``category``, ``team``,
    ``assignee=me|none``, ``merchant``, ``overdue``, ``due=today``, ``channel``,
    ``q``); open ones unless ``status`` says otherwise. Another team's ticket
    answers 404, exactly like one that does not exist."""

    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = NewestFirst

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            _filter, tickets = queue_queryset(user=user, params=self.request.query_params)
        else:
            tickets = tickets_visible_to(user)
        return tickets.select_related("category", "team", "merchant", "assignee")
