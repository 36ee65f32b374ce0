"""The agent desk: the SLA-ordered queue and the ticket workspace.

Every view starts from ``tickets.access``: a ticket the user may not see answers
404 exactly like one that does not exist; a merchant's login gets 403 on every
page here. Changes go through ``tickets.services`` (events, SLA clocks and
notifications included)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cs_desk.exceptions import ApplicationError
from tickets import services
from tickets.access import assignable_users, can_work, is_staff_user, ticket_for_staff
from tickets.evidence import evidence_response
from tickets.models import Ticket
from tickets.queue import SAVED_VIEWS, queue_page
from tickets.workspace import conversation, sla_panel, staff_attachment, timeline


def staff_only(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("desk:login"))
        if not is_staff_user(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def _ticket_or_404(request: HttpRequest, pk: int) -> Ticket:
    ticket = ticket_for_staff(request.user, pk)
    if ticket is None:
        raise Http404
    return ticket


@staff_only
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    view = params.pop("view", [""])[-1]
    if view in SAVED_VIEWS:
        for key, value in SAVED_VIEWS[view][1].items():
            params[key] = value
    try:
        number = int(params.pop("page", ["1"])[-1])
    except ValueError:
        number = 1
    params.pop("partial", None)
    page = queue_page(user=request.user, params=params, page=number)
    context = {
        "page": page,
        "filter": page.filter,
        "saved_views": [(key, label) for key, (label, _filters) in SAVED_VIEWS.items()],
        "current_view": view,
        "query": params.urlencode(),
        "now": timezone.now(),
        "can_work": can_work(request.user),
    }
    template = "tickets/desk/_rows.html" if request.GET.get("partial") else "tickets/desk/queue.html"
    return render(request, template, context)


@staff_only
@require_GET
def workspace(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    now = timezone.now()
    context = {
        "ticket": ticket,
        "conversation": conversation(ticket=ticket),
        "targets": sla_panel(ticket=ticket, now=now),
        "timeline": timeline(ticket=ticket),
        "assignable": assignable_users(request.user, ticket),
        "statuses": [(value, label) for value, label in Ticket.Status.choices if value in _next_statuses(ticket)],
        "priorities": Ticket.Priority.choices,
        "can_work": can_work(request.user),
        "now": now,
    }
    return render(request, "tickets/desk/ticket.html", context)


def _next_statuses(ticket: Ticket) -> set[str]:
    return {ticket.status, *services.ALLOWED[Ticket.Status(ticket.status)]}


@staff_only
@require_GET
def evidence(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    attachment = staff_attachment(ticket=ticket, attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    return evidence_response(attachment)


# --- Actions ------------------------------------------------------------------------


def _action(request: HttpRequest, pk: int, apply: Callable[[Ticket], str]) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    if not can_work(request.user):
        raise PermissionDenied
    try:
        done = apply(ticket)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("desk:ticket", pk=ticket.pk)


@staff_only
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        services.ticket_assign(ticket=ticket, assignee=request.user, actor=request.user)
        return _("The ticket is yours.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        value = request.POST.get("assignee", "")
        assignee = None
        if value:
            assignee = assignable_users(request.user, ticket).filter(pk=value).first() if value.isdigit() else None
            if assignee is None:
                raise ApplicationError(_("Choose a member of the ticket's team."), code="invalid_assignee")
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
        return _("Assigned.") if assignee else _("Unassigned.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        services.ticket_change_status(ticket=ticket, status=request.POST.get("status", ""), actor=request.user)
        return _("Status changed.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def change_priority(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        services.ticket_change_priority(ticket=ticket, priority=request.POST.get("priority", ""), actor=request.user)
        return _("Priority changed; the SLA targets were re-dated.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        body = request.POST.get("body", "")
        if len(body) > 10_000:
            raise ApplicationError(_("A message has at most 10,000 characters."), code="too_long", field="body")
        public = request.POST.get("kind") != "note"
        services.ticket_reply(ticket=ticket, author=request.user, body=body, public=public)
        return _("Reply sent to the consumer.") if public else _("Internal note added.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def forward(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        services.ticket_forward_to_merchant(ticket=ticket, actor=request.user, note=request.POST.get("note", "")[:2000])
        return _("Forwarded to the merchant: they have 24 hours to reply.")

    return _action(request, pk, apply)
