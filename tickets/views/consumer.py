"""The consumer's pages: file a complaint, see the promise, follow it and reply.

The consumer is anonymous. A ticket opens only through its private tracking
token (``ticket_for_token``); a wrong token, a numeric id or a reference all
answer 404. The pages are never cached (they hold a private conversation)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cs_desk.exceptions import ApplicationError
from tickets import services
from tickets.consumer_forms import ComplaintForm, ReplyForm
from tickets.models import Message, SLATarget, Ticket
from tickets.selectors import complaint_categories, merchants_matching, ticket_for_token, ticket_public_conversation
from tickets.targets import RESPONSE_KINDS

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


@never_cache
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                category=data["category"],
                subject=form.subject,
                body=data["description"],
                requester_name=data["requester_name"],
                requester_email=data["requester_email"],
                requester_phone=data["requester_phone"],
                channel=Ticket.Channel.WEB,
                merchant=data["shop"],
                order_number=data["order_number"],
                language=get_language(),
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("tickets:complaint_submitted", token=ticket.tracking_token)
    return render(request, "tickets/public/complaint_new.html", {"form": form, "categories": complaint_categories()})


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


def _author_label(message: Message, ticket: Ticket) -> str:
    if message.author_kind == Message.AuthorKind.CONSUMER:
        return str(_("You"))
    if message.author_kind == Message.AuthorKind.MERCHANT:
        return ticket.merchant.name if ticket.merchant_id else str(_("The shop"))
    if message.author_kind == Message.AuthorKind.SYSTEM:
        return str(_("Notice"))
    # Never the agent's name: consumers see the service, not the person.
    return str(_("Customer service"))


@never_cache
@require_http_methods(["GET", "POST"])
def tracking(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_or_404(token)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_consumer_message(ticket=ticket, body=form.cleaned_data["body"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect(reverse("tickets:tracking", kwargs={"token": token}) + "#latest")
    running = list(ticket.targets.filter(status=SLATarget.Status.RUNNING))
    response_due = min((t.due_at for t in running if t.kind in RESPONSE_KINDS and t.due_at), default=None)
    resolution_due = min((t.due_at for t in running if t.kind == SLATarget.Kind.RESOLUTION and t.due_at), default=None)
    conversation = [(m, _author_label(m, ticket)) for m in ticket_public_conversation(ticket=ticket)]
    context = {
        "ticket": ticket,
        "status_text": STATUS_TEXT[Ticket.Status(ticket.status)],
        "response_due": response_due,
        "resolution_due": resolution_due,
        "conversation": conversation,
        "form": form,
        "can_reply": ticket.status != Ticket.Status.CLOSED,
    }
    return _private(render(request, "tickets/public/tracking.html", context))


@require_GET
def shop_search(request: HttpRequest) -> JsonResponse:
    """Shops matching ``q`` for the complaint form's shop field (name or shop id)."""
    query = request.GET.get("q", "")[:100]
    shops = merchants_matching(query=query)
    return JsonResponse({"results": [{"shop_id": m.shop_id, "name": m.name} for m in shops]})
