"""The merchant portal (/merchant/): the complaints forwarded to the shop, the
public conversation with a reply box, the shop's scorecard, its penalties (each
with its appeal) and its API tokens.

Every view starts from ``merchants.access``: a ticket that is not this shop's,
or was never forwarded to it, answers 404 exactly like one that does not exist.
Staff logins get 403 here; a merchant's login gets 403 on the desk."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import ApiKey
from cs_desk.exceptions import ApplicationError
from cs_desk.forms import TextField
from merchants.access import complaint_for, forward_notes, merchant_of, public_conversation
from merchants.appeals import penalty_appeal_file, penalty_appeals, penalty_for_merchant
from merchants.models import MerchantAppeal
from merchants.selectors import (
    awaiting_reply,
    merchant_penalties,
    portal_complaints,
    score_trend,
    scorecard_of,
    strikes_in_window,
    warn_at,
)
from merchants.tokens import token_create, token_revoke
from tickets import services
from tickets.models import SLATarget
from tickets.privacy import mask_email, mask_phone
from tickets.rules import message_max_chars


def merchant_only(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("merchant:login"))
        merchant = merchant_of(request.user)
        if merchant is None:
            raise PermissionDenied
        request.merchant = merchant
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


class MerchantAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_merchant": gettext_lazy("This sign-in is for merchants. Staff sign in at the agent desk."),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if merchant_of(user) is None:
            raise forms.ValidationError(self.error_messages["not_merchant"], code="not_merchant")


class ReplyForm(forms.Form):
    body = TextField(label=gettext_lazy("Your reply to the consumer"), required=False, strip=False)


class AppealForm(forms.Form):
    body = TextField(label=gettext_lazy("Why the penalty should be revoked"), required=False, strip=False)


class TokenForm(forms.Form):
    """A new token's name (the service decides what a good name is), or the
    token to revoke."""

    name = TextField(label=gettext_lazy("New token's name"), required=False)
    revoke = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class MerchantLoginView(LoginView):
    template_name = "merchants/portal/login.html"
    authentication_form = MerchantAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("merchant:complaints")


def _reply_state(state: str | None) -> str:
    return {
        SLATarget.Status.RUNNING: _("Awaiting your reply"),
        SLATarget.Status.PAUSED: _("Awaiting your reply"),
        SLATarget.Status.MET: _("Answered"),
        SLATarget.Status.MISSED: _("Deadline missed"),
        SLATarget.Status.CANCELLED: _("Withdrawn by the platform"),
    }.get(state, "—")


@merchant_only
def complaints(request: HttpRequest) -> HttpResponse:
    owed_only = request.GET.get("show") != "all"
    page = Paginator(portal_complaints(request.merchant, owed_only=owed_only), 25).get_page(request.GET.get("page"))
    for ticket in page:
        ticket.state_label = _reply_state(ticket.reply_state)
        ticket.warn_at = warn_at(ticket.forwarded_at, ticket.reply_due)
    return render(
        request,
        "merchants/portal/complaints.html",
        {"page": page, "owed_only": owed_only, "now": timezone.now(), "merchant": request.merchant},
    )


def _complaint_or_404(request: HttpRequest, pk: int):
    ticket = complaint_for(request.merchant, pk)
    if ticket is None:
        raise Http404
    return ticket


def _complaint_page(request: HttpRequest, ticket, *, status: int = 200, draft: str = "", error: str = ""):
    target = ticket.targets.filter(kind=SLATarget.Kind.MERCHANT_REPLY).order_by("-cycle").first()
    context = {
        "ticket": ticket,
        "merchant": request.merchant,
        "conversation": public_conversation(ticket),
        "notes": forward_notes(ticket),
        "target": target,
        "state_label": _reply_state(target.status if target else None),
        "warn_at": warn_at(target.started_at, target.due_at) if target else None,
        "contact": {"phone": mask_phone(ticket.requester_phone), "email": mask_email(ticket.requester_email)},
        "now": timezone.now(),
        "draft": draft,
        "error": error,
    }
    return render(request, "merchants/portal/complaint.html", context, status=status)


@merchant_only
@require_http_methods(["GET", "POST"])
def complaint(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _complaint_or_404(request, pk)
    if request.method == "GET":
        return _complaint_page(request, ticket)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        error = " ".join(form.errors["body"])
        return _complaint_page(request, ticket, status=400, draft=form.data.get("body", ""), error=error)
    body = form.cleaned_data["body"]
    try:
        services.ticket_merchant_reply(ticket=ticket, author=request.user, body=body)
    except ApplicationError as error:
        return _complaint_page(request, ticket, status=400, draft=body, error=error.message)
    messages.success(request, _("Your reply was sent to the consumer and the platform."))
    return redirect("merchant:complaint", pk=ticket.pk)


@merchant_only
def scorecard(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    now = timezone.now()
    context = {
        "merchant": merchant,
        "card": scorecard_of(merchant),
        "pending": awaiting_reply(merchant),
        "penalties": merchant_penalties(merchant),
        "strikes": strikes_in_window(merchant, now=now),
        "trend": score_trend(merchant, now=now),
        "window_days": settings.MERCHANT_SCORE_WINDOW_DAYS,
        "score_weight": settings.MERCHANT_SCORE_UNANSWERED_WEIGHT,
        "now": now,
    }
    return render(request, "merchants/portal/scorecard.html", context)


def _penalty_page(request: HttpRequest, penalty, *, status: int = 200, draft: str = "", error: str = ""):
    appeals = list(penalty_appeals(penalty).select_related("filed_by"))
    context = {
        "merchant": request.merchant,
        "penalty": penalty,
        "appeals": appeals,
        "open_appeal": next((a for a in appeals if a.is_open), None),
        "max_chars": message_max_chars(),
        "draft": draft,
        "error": error,
    }
    return render(request, "merchants/portal/penalty.html", context, status=status)


@merchant_only
@require_http_methods(["GET", "POST"])
def penalty(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the shop's penalties, its appeals and their outcome, and the
    appeal form while the penalty is in force."""
    penalty = penalty_for_merchant(request.merchant, pk)
    if penalty is None:
        raise Http404
    if request.method == "GET":
        return _penalty_page(request, penalty)
    form = AppealForm(request.POST)
    if not form.is_valid():
        error = " ".join(form.errors["body"])
        return _penalty_page(request, penalty, status=400, draft=form.data.get("body", ""), error=error)
    body = form.cleaned_data["body"]
    try:
        penalty_appeal_file(penalty=penalty, body=body, source=MerchantAppeal.Source.PORTAL, filed_by=request.user)
    except ApplicationError as error:
        return _penalty_page(request, penalty, status=400, draft=body, error=error.message)
    messages.success(request, _("Your appeal was sent. We will email you the decision."))
    return redirect("merchant:penalty", pk=penalty.pk)


@merchant_only
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    new_key = ""
    error = ""
    status = 200
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if "revoke" in form.data:
            # An id that is no live token of the shop (or no id at all) revokes nothing.
            revoke = form.cleaned_data.get("revoke") if form.is_valid() else None
            if revoke is not None and token_revoke(user=request.user, token_id=revoke):
                messages.success(request, _("The token was revoked; tools using it are refused from now on."))
            return redirect("merchant:tokens")
        try:
            if not form.is_valid():
                raise ApplicationError(" ".join(form.errors.get("name", [])), field="name")
            _token, new_key = token_create(user=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            error, status = exc.message, 400
    live = ApiKey.objects.live().filter(kind=ApiKey.Kind.MERCHANT, merchant=request.merchant).select_related("user")
    return render(
        request,
        "merchants/portal/tokens.html",
        {
            "merchant": request.merchant,
            "tokens": live,
            "new_key": new_key,
            "error": error,
            "name": form.data.get("name", "") if error else "",
        },
        status=status,
    )
