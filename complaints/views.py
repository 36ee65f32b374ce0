"""The consumer's pages: file a complaint, see the promise, follow it and reply.

The consumer is anonymous. A ticket opens only through its private tracking
token (``ticket_for_token``); a wrong token, a numeric id or a reference all
answer 404, and an address that opens too many wrong tokens is refused for a
while (429), right tokens included (``cs_desk.ratelimit.guess_guarded``). The
limits on complaints and replies count only what was accepted. Browsers and
proxies never cache the pages (they hold a private conversation); the server
keeps the tracking page rendered per version of its ticket
(``complaints.page_cache``)."""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints.forms import ComplaintForm, ReplyForm, SurveyForm
from complaints.page_cache import tracking_page_cached
from cs_desk.exceptions import ApplicationError
from cs_desk.ratelimit import (
    GuessesExceeded,
    Verdict,
    client_ip,
    guess_guarded,
    rate_limited_text,
    rate_limits_check,
    rate_limits_count,
)
from feedback.selectors import ticket_latest_survey
from feedback.services import survey_resolution, survey_submit
from tickets import services
from tickets.evidence import evidence_response
from tickets.models import SLATarget, Ticket
from tickets.selectors import (
    complaint_categories,
    merchants_matching,
    merged_tracking_token,
    public_author_label,
    ticket_for_token,
    ticket_page_version,
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


def _ticket_for(request: HttpRequest, token: str) -> Ticket | None:
    """The ticket ``token`` opens, guarded against guessing (GuessesExceeded)."""
    return guess_guarded("token_guess", client_ip(request), lambda: ticket_for_token(token=token))


def _ticket_or_404(request: HttpRequest, token: str) -> Ticket:
    ticket = _ticket_for(request, token)
    if ticket is None:
        raise Http404
    return ticket


def token_guarded(view):
    """A page opened by a tracking token: the address that guessed too often gets
    the "please wait" page (429, Retry-After) instead."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except GuessesExceeded as exc:
            minutes = max(1, -(-exc.verdict.retry_after // 60))
            page = render(request, "complaints/too_many_guesses.html", {"minutes": minutes}, status=429)
            return _too_many(page, exc.verdict)

    return guarded


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _too_many(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _followed(request: HttpRequest, token: str) -> Ticket | None:
    """The closed complaint a new one continues, from its tracking token."""
    ticket = _ticket_for(request, token) if token else None
    return ticket if ticket is not None and ticket.status == Ticket.Status.CLOSED else None


def _follow_up_initial(ticket: Ticket) -> dict:
    """What a follow-up form starts with: what the tracking page shows. The name
    and the contact are not filled in (the form says, masked, that they are kept)."""
    return {
        "follows": ticket.tracking_token,
        "category": ticket.category_id,
        "shop": ticket.merchant.shop_id if ticket.merchant_id else "",
        "order_number": ticket.order_number,
    }


def _complaint_limits(address: str, data: dict) -> list[tuple[str, str]]:
    """The complaint form's limits: per client address, and per contact *from
    that address*: a stranger who files with someone's phone number from other
    addresses cannot lock its owner out."""
    return [("complaint_ip", address)] + [
        ("complaint_contact", f"{data[name]} {address}")
        for name in ("requester_phone", "requester_email")
        if data.get(name)
    ]


@never_cache
@require_http_methods(["GET", "POST"])
@token_guarded
def complaint_new(request: HttpRequest) -> HttpResponse:
    template = "complaints/complaint_new.html"
    follows = _followed(request, (request.POST if request.method == "POST" else request.GET).get("follows", ""))
    if request.method != "POST":
        form = ComplaintForm(initial=_follow_up_initial(follows) if follows else None, follows=follows)
        return render(request, template, {"form": form, "categories": complaint_categories(), "follows": follows})

    address = client_ip(request)
    form = ComplaintForm(request.POST, request.FILES, follows=follows)
    # Called by the template only when the form is shown again: an accepted complaint is a redirect.
    context = {"form": form, "categories": complaint_categories, "follows": follows}
    verdict = rate_limits_check([("complaint_ip", address)])
    if not verdict.allowed:
        context["rate_limited"] = rate_limited_text(verdict)
        return _too_many(render(request, template, context, status=429), verdict)
    if not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data
    limits = _complaint_limits(address, data)
    verdict = rate_limits_check(limits)
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
        form.add_service_error(error)
        return render(request, template, context, status=400)
    rate_limits_count(limits)
    return redirect("complaints:complaint_submitted", token=ticket.tracking_token)


@never_cache
@require_GET
@token_guarded
def complaint_submitted(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_or_404(request, token)
    first = ticket.targets.filter(kind=SLATarget.Kind.FIRST_RESPONSE).order_by("cycle").first()
    context = {
        "ticket": ticket,
        "due": first.due_at if first else None,
        "tracking_url": request.build_absolute_uri(reverse("complaints:tracking", kwargs={"token": token})),
    }
    return _private(render(request, "complaints/complaint_submitted.html", context))


def _tracking_page(request: HttpRequest, ticket: Ticket, *, form=None, survey_form=None, status=200, extra=None):
    return _tracking_render(request, ticket, form=form, survey_form=survey_form, status=status, extra=extra)[0]


def _tracking_render(request, ticket, *, form=None, survey_form=None, status=200, extra=None):
    """The tracking page, and the instant from which it would read differently by
    the clock alone (the promised reply time, once passed, reads "late"), or None."""
    response_due, resolution_due = ticket_promised(ticket=ticket)
    now = timezone.now()
    conversation = [(m, public_author_label(m, ticket)) for m in ticket_public_conversation(ticket=ticket)]
    survey_open = survey_resolution(ticket=ticket) is not None
    context = {
        "ticket": ticket,
        "status_text": STATUS_TEXT[Ticket.Status(ticket.status)],
        "response_due": response_due,
        # Late as soon as the promised time has passed, not only once the sweep has marked it.
        "late": ticket.is_overdue or (response_due is not None and response_due < now),
        "resolution_due": resolution_due,
        "conversation": conversation,
        "form": form or ReplyForm(),
        "can_reply": ticket.status != Ticket.Status.CLOSED,
        "survey_form": (survey_form or SurveyForm()) if survey_open else None,
        "survey": ticket_latest_survey(ticket=ticket),
        "merged_token": merged_tracking_token(ticket=ticket),
        **(extra or {}),
    }
    changes_at = response_due if response_due is not None and response_due >= now else None
    return _private(render(request, "complaints/tracking.html", context, status=status)), changes_at


@never_cache
@require_http_methods(["GET", "POST"])
@token_guarded
def tracking(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return _tracking_get(request, token)
    ticket = _ticket_or_404(request, token)
    form = ReplyForm(request.POST, request.FILES)
    limits = [("reply_ip", client_ip(request)), ("reply_ticket", ticket.tracking_token)]
    verdict = rate_limits_check(limits)
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
            rate_limits_count(limits)
            # ?sent=1: the page confirms the reply (its own cache entry: the key holds the path).
            return redirect(reverse("complaints:tracking", kwargs={"token": token}) + "?sent=1#latest")
    return _tracking_page(request, ticket, form=form, status=400)


def _tracking_get(request: HttpRequest, token: str) -> HttpResponse:
    """The tracking page as most loads find it: unchanged since the last, from the cache."""
    version = guess_guarded("token_guess", client_ip(request), lambda: ticket_page_version(token=token))
    if version is None:
        raise Http404

    def render(extra: dict):
        ticket = ticket_for_token(token=token)
        if ticket is None:  # gone since the line above
            raise Http404
        return _tracking_render(request, ticket, extra={**extra, "reply_sent": request.GET.get("sent") == "1"})

    return tracking_page_cached(request, version, render)


@never_cache
@require_POST
@token_guarded
def survey(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_or_404(request, token)
    form = SurveyForm(request.POST)
    if form.is_valid():
        try:
            survey_submit(ticket=ticket, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect(reverse("complaints:tracking", kwargs={"token": token}) + "#survey")
    return _tracking_page(request, ticket, survey_form=form, status=400)


@require_GET
@token_guarded
def evidence(request: HttpRequest, token: str, attachment_id: int) -> HttpResponse:
    """An evidence file of the ticket the token opens, from a public message only."""
    ticket = _ticket_or_404(request, token)
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
