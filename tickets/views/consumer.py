"""The consumer's pages: file a complaint, see the promise, follow it and reply.

The consumer is anonymous. A ticket opens only through its private tracking
token (``ticket_for_token``); a wrong token, a numeric id or a reference all
answer 404. The pages are never cached (they hold a private conversation)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cs_desk.exceptions import ApplicationError
from cs_desk.ratelimit import Verdict, client_ip, rate_limits_check
from feedback.services import survey_resolution, survey_submit
from tickets import services
from tickets.consumer_forms import ComplaintForm, ReplyForm, SurveyForm
from tickets.evidence import evidence_response
from tickets.models import SLATarget, Ticket
from tickets.selectors import (
    complaint_categories,
    merchants_matching,
    merged_tracking_token,
    public_author_label,
    ticket_for_token,
    ticket_latest_survey,
    ticket_promised,
    ticket_public_attachment,
    ticket_public_conversation,
)

# The status as a consumer reads it.
STATUS_TEXT = {
    Ticket.Status.NEW: _("Received: we will reply soon."),
    Ticket.Status.OPEN: _("In progress: we are working on it."),
    Ticket.Status.AWAITING_MERCHANT: _("We have asked the shop to respond."),
    Ticket.Status.PENDING: _("Waiting for your reply."),
    Ticket.Status.RESOLVED: _("Resolved. If something is still wrong, reply below and we will reopen it."),
    Ticket.Status.CLOSED: _("Closed."),
}


def _ticket_or_404(token: str) -> Ticket:
    ticket = ticket_for_token(token=token)
    if ticket is None:
        raise Http404
    return ticket


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def rate_limited_text(verdict: Verdict) -> str:
    minutes = max(1, -(-verdict.retry_after // 60))
    return ngettext(
        "You have sent too many messages in a short time. Please try again in %(minutes)d minute.",
        "You have sent too many messages in a short time. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _too_many(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _followed(token: str) -> Ticket | None:
    """The closed complaint a new one continues, from its tracking token."""
    ticket = ticket_for_token(token=token) if token else None
    return ticket if ticket is not None and ticket.status == Ticket.Status.CLOSED else None


def _follow_up_initial(ticket: Ticket) -> dict:
    return {
        "follows": ticket.tracking_token,
        "requester_name": ticket.requester_name,
        "requester_phone": ticket.requester_phone,
        "requester_email": ticket.requester_email,
        "category": ticket.category_id,
        "shop": ticket.merchant.shop_id if ticket.merchant_id else "",
        "order_number": ticket.order_number,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    template = "tickets/public/complaint_new.html"
    follows = _followed(request.POST.get("follows", "") if request.method == "POST" else request.GET.get("follows", ""))
    if request.method != "POST":
        form = ComplaintForm(initial=_follow_up_initial(follows) if follows else None)
        return render(request, template, {"form": form, "categories": complaint_categories(), "follows": follows})

    form = ComplaintForm(request.POST, request.FILES)
    context = {"form": form, "categories": complaint_categories(), "follows": follows}
    verdict = rate_limits_check([("complaint_ip", client_ip(request))])
    if not verdict.allowed:
        context["rate_limited"] = rate_limited_text(verdict)
        return _too_many(render(request, template, context, status=429), verdict)
    if not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data
    verdict = rate_limits_check(
        [("complaint_contact", data["requester_phone"]), ("complaint_contact", data["requester_email"])]
    )
    if not verdict.allowed:
        context["rate_limited"] = rate_limited_text(verdict)
        return _too_many(render(request, template, context, status=429), verdict)
    try:
        ticket = services.ticket_create(
            **form.ticket_fields(),
            channel=Ticket.Channel.WEB,
            language=get_language(),
            follows=follows,
            evidence=data["evidence"],
        )
    except ApplicationError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return render(request, template, context, status=400)
    return redirect("tickets:complaint_submitted", token=ticket.tracking_token)


@never_cache
@require_GET
def complaint_submitted(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_or_404(token)
    first = ticket.targets.filter(kind=SLATarget.Kind.FIRST_RESPONSE).order_by("cycle").first()
    context = {
        "ticket": ticket,
        "due": first.due_at if first else None,
        "tracking_url": request.build_absolute_uri(reverse("tickets:tracking", kwargs={"token": token})),
    }
    return _private(render(request, "tickets/public/complaint_submitted.html", context))


def _tracking_page(request: HttpRequest, ticket: Ticket, *, form=None, survey_form=None, status=200, extra=None):
    response_due, resolution_due = ticket_promised(ticket=ticket)
    conversation = [(m, public_author_label(m, ticket)) for m in ticket_public_conversation(ticket=ticket)]
    survey_open = survey_resolution(ticket=ticket) is not None
    context = {
        "ticket": ticket,
        "status_text": STATUS_TEXT[Ticket.Status(ticket.status)],
        "response_due": response_due,
        "resolution_due": resolution_due,
        "conversation": conversation,
        "form": form or ReplyForm(),
        "can_reply": ticket.status != Ticket.Status.CLOSED,
        "survey_form": (survey_form or SurveyForm()) if survey_open else None,
        "survey": ticket_latest_survey(ticket=ticket),
        "merged_token": merged_tracking_token(ticket=ticket),
        **(extra or {}),
    }
    return _private(render(request, "tickets/public/tracking.html", context, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def tracking(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_or_404(token)
    if request.method != "POST":
        return _tracking_page(request, ticket)
    form = ReplyForm(request.POST, request.FILES)
    verdict = rate_limits_check([("reply_ip", client_ip(request)), ("reply_ticket", ticket.tracking_token)])
    if not verdict.allowed:
        page = _tracking_page(
            request, ticket, form=form, status=429, extra={"rate_limited": rate_limited_text(verdict)}
        )
        return _too_many(page, verdict)
    if form.is_valid():
        try:
            services.ticket_consumer_message(
                ticket=ticket, body=form.cleaned_data["body"], evidence=form.cleaned_data["evidence"]
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect(reverse("tickets:tracking", kwargs={"token": token}) + "#latest")
    return _tracking_page(request, ticket, form=form, status=400)


@never_cache
@require_POST
def survey(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_or_404(token)
    form = SurveyForm(request.POST)
    if form.is_valid():
        try:
            survey_submit(ticket=ticket, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect(reverse("tickets:tracking", kwargs={"token": token}) + "#survey")
    return _tracking_page(request, ticket, survey_form=form, status=400)


@require_GET
def evidence(request: HttpRequest, token: str, attachment_id: int) -> HttpResponse:
    """An evidence file of the ticket the token opens, from a public message only."""
    ticket = _ticket_or_404(token)
    attachment = ticket_public_attachment(ticket=ticket, attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    return evidence_response(attachment)


@require_GET
def shop_search(request: HttpRequest) -> JsonResponse:
    """Shops matching ``q`` for the complaint form's shop field (name or shop id)."""
    query = request.GET.get("q", "")[:100]
    shops = merchants_matching(query=query)
    return JsonResponse({"results": [{"shop_id": m.shop_id, "name": m.name} for m in shops]})
