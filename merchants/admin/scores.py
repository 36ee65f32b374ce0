"""Admin for the merchants' scores: the scorecard every door shows, and the
daily snapshots behind the trend. Both are written by the scoring only
(``merchants.scoring``); here they are read."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from merchants.models import MerchantScore, MerchantScorecard
from merchants.selectors import scorecard_of
from merchants.templatetags.merchant_format import percent
from tickets.admin.common import ReadOnlyAdminMixin
from tickets.templatetags.cs_desk_time import instant


class ScorecardColumns:
    """The merchant admin's columns and fields from the merchant's stored
    scorecard (``merchants.scoring``), as every door shows it; the queryset
    selects ``scorecard`` with the merchant."""

    @admin.display(description=_("score"), ordering="scorecard__score")
    def card_score(self, obj: Merchant) -> Decimal:
        return scorecard_of(obj).score

    @admin.display(description=_("reply rate"), ordering="scorecard__reply_rate")
    def card_reply_rate(self, obj: Merchant) -> str:
        return percent(scorecard_of(obj).reply_rate)

    @admin.display(description=_("left unanswered"))
    def card_unanswered(self, obj: Merchant) -> str:
        card = scorecard_of(obj)
        return f"{percent(card.unanswered_percent)} ({card.unanswered}/{card.forwarded})"

    @admin.display(description=_("strikes in the window"), ordering="scorecard__strikes")
    def card_strikes(self, obj: Merchant) -> int:
        return scorecard_of(obj).strikes

    @admin.display(description=_("score last changed"))
    def card_computed_at(self, obj: Merchant) -> str:
        return instant(scorecard_of(obj).computed_at)


@admin.register(MerchantScorecard)
class MerchantScorecardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each merchant's score as every door shows it; written by the scoring only (merchants.scoring)."""

    list_display = [
        "merchant", "score", "reply_rate", "answered", "unanswered", "median_reply_seconds", "strikes",
        "penalty_points", "computed_at",
    ]  # fmt: skip
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "=merchant__shop_id"]
    ordering = ["score", "merchant_id"]
    show_facets = admin.ShowFacets.NEVER


@admin.register(MerchantScore)
class MerchantScoreAdmin(admin.ModelAdmin):
    """The snapshots behind the trend, one for each day a merchant's figures changed (a day without
    one kept the previous figures); written by the scoring only."""

    list_display = ["day", "merchant", "score", "reply_rate", "answered", "unanswered", "strikes", "penalty_points"]
    list_select_related = ["merchant"]
    list_filter = ["day"]
    search_fields = ["merchant__name", "=merchant__shop_id"]
    date_hierarchy = "day"
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
