"""Admin for integrations: staff API tokens (made here; the key is shown once),
webhook endpoints (URL, events, signing secret), and the delivery log with
each attempt, where a failed delivery can be sent again."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.keys import api_keys_revoke
from integrations.destinations import KIND_TEXT, SCHEMES, url_refusal
from integrations.models import StaffApiToken, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.tokens import staff_token_create
from integrations.webhooks import SECRET_BYTES_MAX, SECRET_BYTES_MIN, WEBHOOK, webhook_secret_key
from tickets.access import is_staff_user
from tickets.admin.common import code, code_block
from tickets.outbox import outbox_may_retry, outbox_retry


class StaffApiTokenForm(forms.ModelForm):
    class Meta:
        model = StaffApiToken
        fields = ["user", "name"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not is_staff_user(user):
            raise forms.ValidationError(
                _("Only an active agent, supervisor or manager can hold a staff token (merchants make their own).")
            )
        return user


@admin.register(StaffApiToken)
class StaffApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "prefix"]
    actions = ["revoke"]
    form = StaffApiTokenForm

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        return ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_fields(self, request: HttpRequest, obj=None):
        return ["user", "name"] if obj is None else self.get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: StaffApiToken, form, change: bool) -> None:
        token, key = staff_token_create(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        obj.pk = token.pk
        obj.prefix, obj.key_hash, obj.created_at = token.prefix, token.key_hash, token.created_at
        self.message_user(
            request,
            _("The key of “%(name)s” is %(key)s — copy it now: it is not stored and will not be shown again.")
            % {"name": token.name, "key": key},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[StaffApiToken]) -> None:
        count = api_keys_revoke(keys=queryset, now=timezone.now())
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active", "secret"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if urlsplit(url).scheme.lower() not in SCHEMES:
            raise forms.ValidationError(_("Give an http:// or https:// URL."))
        refusal = url_refusal(url)
        if refusal is not None:
            host = urlsplit(url).hostname
            kind = gettext(KIND_TEXT[refusal.kind])
            if refusal.address == host:
                message = _("Webhooks are sent only to public addresses; %(address)s is %(kind)s.")
            else:
                message = _("Webhooks are sent only to public addresses; %(host)s resolves to %(address)s, %(kind)s.")
            raise forms.ValidationError(message % {"host": host, "address": refusal.address, "kind": kind})
        return url

    def clean_secret(self):
        """A secret the administrator typed must be one Standard Webhooks
        receivers can use; one already stored (from before) is kept as it is."""
        secret = self.cleaned_data["secret"]
        if self.instance.pk and secret == self.instance.secret:
            return secret
        try:
            key = webhook_secret_key(secret)
        except ValueError:
            key = b""
        if not SECRET_BYTES_MIN <= len(key) <= SECRET_BYTES_MAX:
            raise forms.ValidationError(
                _(
                    "Give whsec_ followed by the base64 of %(min)d to %(max)d random bytes, "
                    "or keep the secret generated for you."
                )
                % {"min": SECRET_BYTES_MIN, "max": SECRET_BYTES_MAX}
            )
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]

    @admin.display(description=_("events"))
    def events_list(self, endpoint: WebhookEndpoint) -> str:
        return "、".join(str(WebhookEvent(event).label) for event in endpoint.events if event in WebhookEvent.values)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "at", "status_code", "error", "response_excerpt", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "created_at", "next_attempt_at"]
    list_filter = ["status", "event", "endpoint"]
    search_fields = ["uuid", "last_error"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint"]
    fields = readonly_fields = [
        "endpoint", "event", "ticket_event", "delivery_id", "body", "status", "attempts", "next_attempt_at",
        "leased_until", "last_status_code", "last_error", "created_at", "delivered_at",
    ]  # fmt: skip
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.display(description=_("payload"))
    def body(self, delivery: WebhookDelivery) -> str:
        return code_block(delivery.payload)

    @admin.display(description=_("delivery ID"))
    def delivery_id(self, delivery: WebhookDelivery) -> str:
        # A code (webhook-id): a group of its hex digits can spell letters only ("baac").
        return code(str(delivery.uuid))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return outbox_may_retry(WEBHOOK, request.user)

    @admin.action(description=_("Send the selected deliveries again"), permissions=["retry"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        """Failed and delivered ones too, as the outbox's retry decides for webhooks."""
        count = len(outbox_retry(channel=WEBHOOK, ids=queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d delivery queued again.", "%d deliveries queued again.", count) % count)
