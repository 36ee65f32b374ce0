"""Live chat in the desk: an agent's availability (online, away, offline) and
capacity, taking or passing a chat offered to them, ending a chat, and the
supervisors' live view of who is online, their load and the chats waiting.
The rules are in ``tickets.services.chat``; the conversation itself travels
over the desk's socket (``desk.live``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cs_desk.exceptions import ApplicationError
from desk.views import _cleaned, _ticket_or_404, staff_only
from tickets.access import can_work, reads_reports
from tickets.chats import chat_board
from tickets.models import AgentAvailability
from tickets.services.chat import availability_set, chat_accept, chat_decline, chat_end


class AvailabilityForm(forms.Form):
    status = forms.ChoiceField(choices=AgentAvailability.Status.choices)
    capacity = forms.IntegerField(min_value=1, max_value=20, required=False)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("desk:queue")


@staff_only
@require_POST
def availability(request: HttpRequest) -> HttpResponse:
    """The header's switch: online (chats are offered), away or offline."""
    try:
        data = _cleaned(AvailabilityForm(request.POST))
        row = availability_set(user=request.user, status=data["status"], capacity=data["capacity"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You are now: %(status)s.") % {"status": row.get_status_display()})
    return _back(request)


def _chat_action(request: HttpRequest, pk: int, act, done: str, *, to_ticket: bool = True) -> HttpResponse:
    """``act(ticket, user)`` on a chat the user may see and work; back to the
    ticket (or, for a chat passed on, to the queue), saying what happened."""
    ticket = _ticket_or_404(request, pk)
    if not can_work(request.user):
        raise PermissionDenied
    try:
        act(ticket, request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("desk:ticket", pk=ticket.pk)
    messages.success(request, done)
    return redirect("desk:ticket", pk=ticket.pk) if to_ticket else redirect("desk:queue")


@staff_only
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket, user):
        chat_accept(ticket=ticket, agent=user)

    return _chat_action(request, pk, act, _("The chat is yours: answer within a minute."))


@staff_only
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket, user):
        chat_decline(ticket=ticket, agent=user)

    return _chat_action(request, pk, act, _("The chat goes to the next agent."), to_ticket=False)


@staff_only
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket, user):
        chat_end(ticket=ticket, actor=user)

    return _chat_action(request, pk, act, _("The chat has ended. Set the ticket's status when its work is done."))


@staff_only
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """Supervisors' live view: agents online, their load and capacity, chats
    waiting. The page fetches its table again as the live desk reports changes."""
    if not reads_reports(request.user):
        raise PermissionDenied
    template = "desk/_chat_board.html" if request.headers.get("X-Requested-With") == "fetch" else "desk/chats.html"
    return render(request, template, chat_board(request.user))
