"""Merchants as the platform's staff see them (/api/v1/merchants/): standing,
score, reply figures and penalties. For managers and supervisors (the readers
of the merchant reports); merchants see their own shop through
/api/v1/merchant/ with their tokens."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Merchant
from cs_desk.api import NewestFirst
from merchants.api.serializers import ScorecardSerializer
from merchants.selectors import awaiting_reply, merchant_penalties, scorecard_of
from tickets.access import reads_merchant_reports


class ReadsMerchantReports(BasePermission):
    message = "Only managers and supervisors read merchants' standing."

    def has_permission(self, request: Request, view) -> bool:
        return reads_merchant_reports(request.user)


class MerchantSerializer(serializers.ModelSerializer):
    """A merchant's record, with the score of its stored scorecard (the one every door shows)."""

    score = serializers.SerializerMethodField()
    score_updated_at = serializers.SerializerMethodField()

    class Meta:
        model = Merchant
        fields = [
            "id", "shop_id", "name", "status", "verification", "suspended", "search_demoted", "promotions_excluded",
            "score", "score_updated_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False))
    def get_score(self, merchant: Merchant) -> Decimal:
        return scorecard_of(merchant).score

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_score_updated_at(self, merchant: Merchant) -> str | None:
        """When the score's figures were computed (last changed)."""
        at = scorecard_of(merchant).computed_at
        return None if at is None else serializers.DateTimeField().to_representation(at)


class MerchantDetailSerializer(MerchantSerializer):
    """With the stored scorecard (the figures behind the score)."""

    scorecard = serializers.SerializerMethodField()

    class Meta(MerchantSerializer.Meta):
        fields = [*MerchantSerializer.Meta.fields, "scorecard"]
        read_only_fields = fields

    @extend_schema_field(ScorecardSerializer)
    def get_scorecard(self, merchant: Merchant) -> dict:
        return ScorecardSerializer(self.context["card"], context=self.context).data


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=Merchant.Status.values),
            OpenApiParameter("q", str, description="Shop id or words of the shop's name."),
        ],
        summary="Merchants, newest first",
        description="The marketplace's merchants, newest first, with their standing and the score of their "
        "stored scorecard; filtered by status, or by shop id or words of the name.",
    ),
    retrieve=extend_schema(
        summary="One merchant by shop id, with its scorecard and penalties",
        description="One merchant by its shop id: its standing, the scorecard behind its score (reply rate, "
        "median reply time, strikes, complaints awaiting its reply) and its penalties with their reasons.",
    ),
)
class MerchantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MerchantSerializer
    permission_classes = [ReadsMerchantReports]
    pagination_class = NewestFirst
    lookup_field = "shop_id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        rows = Merchant.objects.select_related("scorecard")
        if self.action != "list":
            return rows
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in Merchant.Status.values:
                raise ValidationError({"status": [_("Unknown status.")]})
            rows = rows.filter(status=wanted)
        q = self.request.query_params.get("q", "").strip()[:100]
        if q:
            rows = rows.filter(Q(shop_id__iexact=q) | Q(name__icontains=q))
        return rows

    def get_serializer_class(self):
        return MerchantDetailSerializer if self.action == "retrieve" else MerchantSerializer

    def retrieve(self, request: Request, shop_id=None) -> Response:
        merchant = self.get_object()
        penalties = merchant_penalties(merchant)
        context = {
            "card": scorecard_of(merchant),
            "merchant": merchant,
            "penalties": penalties,
            "pending": awaiting_reply(merchant),
        }
        return Response(MerchantDetailSerializer(merchant, context=context).data)
