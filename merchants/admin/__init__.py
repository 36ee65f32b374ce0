"""Admin for merchants: their record and qualification review (资质审核), the
users who answer for them, strikes, penalties (impose by hand, revoke,
confirm a proposed removal), the merchants' appeals (decided here, once),
risk signals and API tokens.

Standing changes go through ``merchants.penalties`` and ``merchants.appeals``
(the merchant is notified, its status, flags and score follow); nothing here
edits a status by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db.models import Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import linebreaksbr
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.keys import api_keys_revoke
from accounts.models import Merchant, MerchantUser
from cs_desk.exceptions import ApplicationError
from merchants.admin import risk  # noqa: F401  (registers the page)
from merchants.admin.scores import ScorecardColumns
from merchants.appeals import appeal_may_decide, penalty_appeal_decide, penalty_appeal_decision_check
from merchants.models import (
    MerchantApiToken,
    MerchantAppeal,
    MerchantDocument,
    MerchantPenalty,
    MerchantStrike,
)
from merchants.penalties import (
    merchant_penalty_impose,
    merchant_penalty_revoke,
    merchant_removal_confirm,
    merchant_suspend,
    merchants_rescore,
)
from merchants.scoring import merchant_scores_compute
from merchants.verification import merchant_verification_check, merchant_verify
from tickets.admin.common import TicketScopedAdminMixin
from tickets.evidence import file_response
from tickets.templatetags.cs_desk_time import instant
from tickets.uploads import evidence_clean


class MerchantUserInline(admin.TabularInline):
    model = MerchantUser
    autocomplete_fields = ["user"]
    extra = 0


class MerchantDocumentForm(forms.ModelForm):
    class Meta:
        model = MerchantDocument
        fields = ["kind", "file"]
        # A plain file input: the clearable one links the stored file by its URL, and
        # evidence storage has none (the file opens through the "open" link instead).
        widgets = {"file": forms.FileInput}

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded is None or not hasattr(uploaded, "content_type"):
            return uploaded  # unchanged
        clean = evidence_clean(uploaded)
        self.instance.original_name = clean.original_name
        self.instance.content_type = clean.content_type
        return ContentFile(clean.content, name=f"document.{clean.extension}")


class MerchantDocumentInline(admin.TabularInline):
    """Business licence and permits, checked like a consumer's evidence (a
    picture or a PDF, by content) and opened only through the admin."""

    model = MerchantDocument
    form = MerchantDocumentForm
    extra = 0
    fields = ["kind", "file", "open_link", "uploaded_at"]
    readonly_fields = ["open_link", "uploaded_at"]

    @admin.display(description=_("open"))
    def open_link(self, obj: MerchantDocument) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:accounts_merchant_document", args=[obj.merchant_id, obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', url, obj.original_name or obj.file.name
        )


class MerchantAdminForm(forms.ModelForm):
    class Meta:
        model = Merchant
        fields = [
            "shop_id", "name", "legal_entity", "created_at", "contact_name", "contact_phone", "contact_email",
            "verification", "verification_note",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        if "verification" in data:
            try:
                merchant_verification_check(decision=data["verification"], note=data.get("verification_note") or "")
            except ApplicationError as error:
                raise ValidationError({error.field: error.message}) from error
        return data


@admin.register(Merchant)
class MerchantAdmin(ScorecardColumns, admin.ModelAdmin):
    form = MerchantAdminForm
    list_display = [
        "name", "shop_id", "status", "card_score", "card_reply_rate", "verification", "contact_phone", "card_strikes",
        "created_at",
    ]  # fmt: skip
    list_select_related = ["scorecard"]
    list_filter = ["status", "verification", "search_demoted", "promotions_excluded"]
    search_fields = ["name", "=shop_id", "=contact_phone", "=contact_email", "legal_entity"]
    search_help_text = _("Shop name or legal entity, or the exact shop id, contact phone or contact email.")
    date_hierarchy = "created_at"
    inlines = [MerchantUserInline, MerchantDocumentInline]
    actions = ["recompute", "suspend", "lift_suspension"]
    readonly_fields = [
        "status", "card_score", "card_reply_rate", "card_unanswered", "card_computed_at", "search_demoted",
        "promotions_excluded", "suspended", "verified_by", "verified_at", "scorecard_link",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["shop_id", "name", "legal_entity", "created_at", "scorecard_link"]}),
        (_("Contact"), {"fields": ["contact_name", "contact_phone", "contact_email"]}),
        (_("Qualification review"), {"fields": ["verification", "verification_note", "verified_by", "verified_at"]}),
        (
            _("Standing"),
            {
                "fields": [
                    "status",
                    "card_score",
                    "card_reply_rate",
                    "card_unanswered",
                    "card_computed_at",
                    "search_demoted",
                    "promotions_excluded",
                    "suspended",
                ],
                "description": _(
                    "Follows from the penalties in force; use the actions to suspend or lift a suspension."
                ),
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("scorecard")

    @admin.display(description=_("scorecard"))
    def scorecard_link(self, obj: Merchant) -> str:
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("merchant_reports:detail", args=[obj.pk]), _("Open"))

    def save_model(self, request: HttpRequest, obj: Merchant, form, change: bool) -> None:
        decided = {"verification", "verification_note"} & set(form.changed_data)
        decision, note = obj.verification, obj.verification_note
        if decided:
            # The review's decision is merchant_verify's to record, with who and when;
            # the rest of the record is saved here, with the decision as it stood.
            obj.verification = form.initial.get("verification", Merchant.Verification.PENDING)
            obj.verification_note = form.initial.get("verification_note", "")
        super().save_model(request, obj, form, change)
        if not change:  # its scorecard (score 100, nothing yet) and its first point of the trend
            merchant_scores_compute(now=timezone.now(), merchant_ids=[obj.pk])
        if decided:
            merchant_verify(merchant=obj, decision=decision, note=note, by=request.user, now=timezone.now())

    def get_urls(self):
        urls = super().get_urls()
        extra = [
            path(
                "<int:merchant_id>/documents/<int:document_id>/",
                self.admin_site.admin_view(self.document_view),
                name="accounts_merchant_document",
            )
        ]
        return extra + urls

    def document_view(self, request: HttpRequest, merchant_id: int, document_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = get_object_or_404(MerchantDocument, pk=document_id, merchant_id=merchant_id)
        try:
            return file_response(
                document.file.name,
                content_type=document.content_type or "application/octet-stream",
                filename=document.original_name or "document",
            )
        except FileNotFoundError as exc:
            raise Http404 from exc

    @admin.action(description=_("Recompute score and penalties now"))
    def recompute(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = merchants_rescore(merchant_ids=list(queryset.values_list("pk", flat=True)))["scored"]
        self.message_user(request, ngettext("%d merchant scored.", "%d merchants scored.", count) % count)

    @admin.action(description=_("Suspend the selected merchants"), permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        for merchant in queryset:
            merchant_suspend(merchant=merchant, suspended=True)
        self.message_user(request, _("Suspended."), messages.SUCCESS)

    @admin.action(description=_("Lift the suspension of the selected merchants"), permissions=["change"])
    def lift_suspension(self, request: HttpRequest, queryset: QuerySet) -> None:
        for merchant in queryset:
            merchant_suspend(merchant=merchant, suspended=False)
        self.message_user(request, _("Suspension lifted."), messages.SUCCESS)


@admin.register(MerchantUser)
class MerchantUserAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant"]
    list_select_related = ["user", "merchant"]
    autocomplete_fields = ["user", "merchant"]
    search_fields = ["user__username", "user__email", "merchant__name", "=merchant__shop_id"]


@admin.register(MerchantStrike)
class MerchantStrikeAdmin(TicketScopedAdminMixin, admin.ModelAdmin):
    """Strikes are recorded by the SLA sweep when a merchant misses the reply
    deadline (one per missed target); they are not added by hand. Deleting one
    withdraws it (e.g. after an appeal); the admin log keeps who did it."""

    list_display = ["created_at", "merchant", "ticket", "reason_display"]
    list_select_related = ["merchant", "ticket"]
    search_fields = ["merchant__name", "=merchant__shop_id", "=ticket__reference"]
    date_hierarchy = "created_at"
    fields = ["merchant", "ticket", "target", "created_at", "reason_display"]
    readonly_fields = ["merchant", "ticket", "target", "created_at", "reason_display"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("reason"), ordering="reason")
    def reason_display(self, obj: MerchantStrike) -> str:
        return obj.reason_text


class PenaltyImposeForm(forms.ModelForm):
    class Meta:
        model = MerchantPenalty
        fields = ["merchant", "kind", "points", "reason", "tickets"]


class PenaltyDecisionForm(forms.ModelForm):
    """An existing penalty: revoke it (with the reason), or confirm a proposed removal."""

    revoke_reason = forms.CharField(
        label=_("Revoke with this reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The merchant's appeal was upheld: the penalty ends and its effects are undone."),
    )
    confirm_removal = forms.BooleanField(
        label=_("Confirm the removal"), required=False, help_text=_("The merchant is removed from the marketplace.")
    )

    class Meta:
        model = MerchantPenalty
        fields: list[str] = []

    def clean(self):
        data = super().clean()
        if data.get("revoke_reason", "").strip() and data.get("confirm_removal"):
            raise ValidationError(_("Either revoke the penalty or confirm the removal, not both."))
        return data


@admin.register(MerchantPenalty)
class MerchantPenaltyAdmin(admin.ModelAdmin):
    list_display = ["created_at", "merchant", "kind", "status", "points", "strike_count", "decided", "ended_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["merchant", "decided_by"]
    search_fields = ["merchant__name", "=merchant__shop_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["tickets"]
    autocomplete_fields = ["merchant"]
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("decided by"))
    def decided(self, obj: MerchantPenalty) -> str:
        return obj.decided_by_label

    @admin.display(description=_("reason"))
    def reason_display(self, obj: MerchantPenalty) -> str:
        return obj.reason_text

    @admin.display(description=_("tickets"))
    def ticket_links(self, obj: MerchantPenalty) -> str:
        links = [(reverse("desk:ticket", args=[t.pk]), t.reference) for t in obj.tickets.all()]
        return format_html_join(", ", '<a href="{}">{}</a>', links) if links else "—"

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        kwargs["form"] = PenaltyDecisionForm if obj is not None else PenaltyImposeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["merchant", "kind", "points", "reason", "tickets"]
        fields = [
            "merchant", "kind", "status", "points", "reason_display", "strike_count", "threshold", "ticket_links",
            "decided", "created_at", "confirmed_by", "confirmed_at", "ended_at", "ended_by", "end_reason",
        ]  # fmt: skip
        if obj.in_force:
            fields.append("revoke_reason")
            if obj.kind == MerchantPenalty.Kind.REMOVAL and obj.status == MerchantPenalty.Status.PROPOSED:
                fields.append("confirm_removal")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        return [f for f in self.get_fields(request, obj) if f not in ("revoke_reason", "confirm_removal")]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # ended by revocation, never erased

    def save_model(self, request: HttpRequest, obj: MerchantPenalty, form, change: bool) -> None:
        try:
            if not change:
                penalty = merchant_penalty_impose(
                    merchant=form.cleaned_data["merchant"],
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data.get("reason", ""),
                    points=form.cleaned_data.get("points") or 0,
                    tickets=form.cleaned_data.get("tickets") or (),
                    actor=request.user,
                )
                obj.pk = penalty.pk
            elif form.cleaned_data.get("revoke_reason", "").strip():
                reason = form.cleaned_data["revoke_reason"]
                appeal = obj.appeals.filter(status=MerchantAppeal.Status.OPEN).first()
                if appeal is not None:  # the merchant's open appeal is decided by it
                    decision = MerchantAppeal.Status.REVOKED
                    penalty_appeal_decide(appeal=appeal, decision=decision, note=reason, actor=request.user)
                else:
                    merchant_penalty_revoke(penalty=obj, actor=request.user, reason=reason)
            elif form.cleaned_data.get("confirm_removal"):
                merchant_removal_confirm(penalty=obj, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)

    def save_related(self, request, form, formsets, change) -> None:
        """The services set the tickets; nothing else to save."""


class AppealDecisionForm(forms.ModelForm):
    """An open appeal's decision: the button pressed (``_decision``) and the note."""

    note = forms.CharField(
        label=_("Note to the merchant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to revoke the penalty: it is the reason the merchant reads."),
    )

    class Meta:
        model = MerchantAppeal
        fields: list[str] = []

    def clean(self):
        data = super().clean()
        decision = self.data.get("_decision", "")
        try:
            data["note"] = penalty_appeal_decision_check(decision=decision, note=data.get("note", ""))
        except ApplicationError as error:
            raise ValidationError({"note": error.message} if error.field == "note" else error.message) from error
        data["decision"] = decision
        return data


@admin.register(MerchantAppeal)
class MerchantAppealAdmin(admin.ModelAdmin):
    """The one place appeals are decided, by whoever may change merchant
    penalties: uphold the penalty, or revoke it with a note. Open appeals first."""

    form = AppealDecisionForm
    list_display = ["created_at", "merchant", "penalty", "status", "source", "decided_by", "decided_at"]
    list_filter = ["status", "source"]
    list_select_related = ["merchant", "penalty__merchant", "decided_by"]
    search_fields = ["merchant__name", "=merchant__shop_id"]
    date_hierarchy = "created_at"
    show_facets = admin.ShowFacets.NEVER
    shown = [
        "merchant", "penalty_link", "penalty_status", "penalty_reason", "body_display", "source", "filed_by",
        "from_address", "created_at", "status", "decided_by", "decided_at", "decision_note",
    ]  # fmt: skip

    def get_ordering(self, request: HttpRequest):
        return [Case(When(status=MerchantAppeal.Status.OPEN, then=Value(0)), default=Value(1)).asc(), "-created_at"]

    def get_fields(self, request: HttpRequest, obj=None):
        return [*self.shown, "note"] if obj is not None and obj.is_open else self.shown

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.shown

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # filed by merchants, in the portal or by email

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) or appeal_may_decide(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return appeal_may_decide(request.user) and (obj is None or obj.is_open)

    @admin.display(description=_("penalty"))
    def penalty_link(self, obj: MerchantAppeal) -> str:
        url = reverse("admin:merchants_merchantpenalty_change", args=[obj.penalty_id])
        return format_html(
            '<a href="{}">{}</a> · {}', url, obj.penalty.get_kind_display(), instant(obj.penalty.created_at)
        )

    @admin.display(description=_("penalty status"))
    def penalty_status(self, obj: MerchantAppeal) -> str:
        return obj.penalty.get_status_display()

    @admin.display(description=_("reason for the penalty"))
    def penalty_reason(self, obj: MerchantAppeal) -> str:
        return obj.penalty.reason_text

    @admin.display(description=_("the merchant's case"))
    def body_display(self, obj: MerchantAppeal) -> str:
        # The merchant's words, escaped, their line breaks kept (a safe string: shown, not escaped twice).
        return linebreaksbr(obj.body, autoescape=True)

    def save_model(self, request: HttpRequest, obj: MerchantAppeal, form, change: bool) -> None:
        data = form.cleaned_data
        try:
            penalty_appeal_decide(appeal=obj, decision=data["decision"], note=data["note"], actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)

    def save_related(self, request, form, formsets, change) -> None:
        """The service decides; nothing else to save."""


@admin.register(MerchantApiToken)
class MerchantApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by merchant users in the portal (the key is shown once,
    there); an administrator can see and revoke them."""

    list_display = ["name", "merchant", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["merchant", "user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "merchant__name", "=merchant__shop_id", "=prefix"]
    fields = ["name", "merchant", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = api_keys_revoke(keys=queryset, now=timezone.now())
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count)
