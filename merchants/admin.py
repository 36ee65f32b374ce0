"""Admin for merchants, the users who answer for them, and their strikes."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant, MerchantStrike, MerchantUser


class MerchantUserInline(admin.TabularInline):
    model = MerchantUser
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "shop_id", "contact_name", "contact_phone", "contact_email", "strike_count", "created_at"]
    search_fields = ["name", "=shop_id", "=contact_phone", "=contact_email"]
    search_help_text = _("Shop name, or the exact shop id, contact phone or contact email.")
    date_hierarchy = "created_at"
    inlines = [MerchantUserInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(strike_count=Count("strikes"))

    @admin.display(description=_("strikes"), ordering="strike_count")
    def strike_count(self, obj: Merchant) -> int:
        return obj.strike_count


@admin.register(MerchantUser)
class MerchantUserAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant"]
    list_select_related = ["user", "merchant"]
    autocomplete_fields = ["user", "merchant"]
    search_fields = ["user__username", "user__email", "merchant__name", "=merchant__shop_id"]


@admin.register(MerchantStrike)
class MerchantStrikeAdmin(admin.ModelAdmin):
    """Strikes are recorded by the SLA sweep when a merchant misses the reply
    deadline (one per missed target); they are not added by hand. Deleting one
    withdraws it (e.g. after an appeal); the admin log keeps who did it."""

    list_display = ["created_at", "merchant", "ticket", "reason"]
    list_select_related = ["merchant", "ticket"]
    search_fields = ["merchant__name", "=merchant__shop_id", "=ticket__reference"]
    date_hierarchy = "created_at"
    fields = ["merchant", "ticket", "target", "created_at", "reason"]
    readonly_fields = ["merchant", "ticket", "target", "created_at"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
