"""Admin for the merchants' risk signals: reviewed by managers on
/reports/merchants/risk/ (merchants.risk finds them daily); listed here for the
record, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from merchants.models import MerchantRiskSignal
from tickets.admin.common import code, code_block


@admin.register(MerchantRiskSignal)
class MerchantRiskSignalAdmin(admin.ModelAdmin):
    """Reviewed by managers on /reports/merchants/risk/; listed here for the record."""

    list_display = ["kind", "signal_key", "status", "detected_at", "last_seen_at", "reviewed_by"]
    list_filter = ["status", "kind"]
    search_fields = ["key"]
    fields = [
        "kind", "signal_key", "merchants", "evidence_record", "status", "detected_at", "last_seen_at", "reviewed_by",
        "reviewed_at", "review_note",
    ]  # fmt: skip

    @admin.display(description=_("key"), ordering="key")
    def signal_key(self, obj: MerchantRiskSignal) -> str:
        return code(obj.key)

    @admin.display(description=_("evidence"))
    def evidence_record(self, obj: MerchantRiskSignal) -> str:
        return code_block(obj.evidence)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
