from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.selectors import parse_instant, sla_preview


class SLAPreviewView(APIView):
    """``GET /api/v1/sla/preview?priority=<p>&at=<ISO-8601>``: when each target
    of a ticket filed then would be due. Public: it reveals only the policy."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        at = parse_instant(request.query_params.get("at"))
        return Response(sla_preview(priority=request.query_params.get("priority", ""), at=at))
