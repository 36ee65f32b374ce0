"""The agent desk: the SLA-ordered queue and the ticket workspace.

Every view starts from ``tickets.access``: a ticket the user may not see answers
404 exactly like one that does not exist; a merchant's login gets 403 on every
page here. Changes go through ``tickets.services`` (events, SLA clocks and
notifications included)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cs_desk.csv_export import csv_response
from cs_desk.exceptions import ApplicationError
from cs_desk.forms import form_problems, whole_number
from desk.forms import (
    AssignForm,
    BulkForm,
    ForwardForm,
    MergeForm,
    PhoneCallForm,
    PriorityForm,
    ReplyForm,
    StaffProfileForm,
    StatusForm,
)
from desk.presence import presence_beat, presence_leave
from desk.queue import SAVED_VIEWS, queue_page, queue_queryset
from desk.workspace import conversation, latest_message_id, messages_since, sla_panel, staff_attachment, timeline
from tickets import services
from tickets.access import (
    assignable_users,
    can_work,
    colleagues,
    is_staff_user,
    ticket_for_staff,
    tickets_visible_to,
)
from tickets.canned import canned_search
from tickets.evidence import evidence_response
from tickets.models import Chat, StaffProfile, Ticket
from tickets.privacy import mask_contact
from tickets.selectors import same_requester
from tickets.staff_alerts import staff_alerts_seen

LANGUAGE_NAMES = dict(settings.LANGUAGES)

# Entered only by filing (new) or by forwarding one ticket to its merchant.
BULK_SKIP_STATUSES = {Ticket.Status.NEW, Ticket.Status.AWAITING_MERCHANT}


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


def _queue_params(request: HttpRequest):
    """The queue's filters from the query string, a saved view's filters applied
    over them; and the saved view's name."""
    params = request.GET.copy()
    view = params.pop("view", [""])[-1]
    if view in SAVED_VIEWS:
        for key, value in SAVED_VIEWS[view][1].items():
            params[key] = value
    return params, view


@staff_only
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    params, view = _queue_params(request)
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
        "tickets_prefix": reverse("desk:ticket", kwargs={"pk": 0}).removesuffix("0/"),
    }
    if not request.GET.get("partial") and context["can_work"]:
        context["colleagues"] = colleagues(request.user)
        context["bulk_statuses"] = [(v, label) for v, label in Ticket.Status.choices if v not in BULK_SKIP_STATUSES]
        context["priorities"] = Ticket.Priority.choices
    template = "desk/_rows.html" if request.GET.get("partial") else "desk/queue.html"
    return render(request, template, context)


@staff_only
@require_GET
def workspace(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    staff_alerts_seen(request.user, now=timezone.now(), ticket_id=ticket.pk)  # opened: its alerts are read
    return _workspace(request, ticket)


def _workspace(request: HttpRequest, ticket: Ticket, *, status: int = 200, **extra) -> HttpResponse:
    now = timezone.now()
    messages_ = conversation(ticket=ticket)
    context = {
        "ticket": ticket,
        "conversation": messages_,
        "seen": latest_message_id(messages_),
        "targets": sla_panel(ticket=ticket, now=now),
        "timeline": timeline(ticket=ticket),
        "assignable": assignable_users(request.user, ticket),
        "statuses": [(value, label) for value, label in Ticket.Status.choices if value in _next_statuses(ticket)],
        "priorities": Ticket.Priority.choices,
        "can_work": can_work(request.user),
        # Every merged duplicate has at least its first message in the conversation.
        "merged": sorted({m.ticket for m in messages_ if m.ticket_id != ticket.pk}, key=lambda t: t.pk),
        "now": now,
        "chat": Chat.objects.filter(ticket=ticket).select_related("agent").first(),
        **extra,
    }
    return render(request, "desk/ticket.html", context, status=status)


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


def _cleaned(form: forms.Form) -> dict:
    """The form's cleaned data; an invalid form is an ApplicationError naming
    each field in error (shown like any other refusal of an action)."""
    if not form.is_valid():
        raise ApplicationError(" ".join(form_problems(form)), field=next(iter(form.errors)))
    return form.cleaned_data


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
        form = AssignForm(request.POST, assignable=assignable_users(request.user, ticket))
        assignee = _cleaned(form)["assignee"]
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
        return _("Assigned.") if assignee else _("Unassigned.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        status = _cleaned(StatusForm(request.POST))["status"]
        services.ticket_change_status(ticket=ticket, status=status, actor=request.user)
        return _("Status changed.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def change_priority(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        priority = _cleaned(PriorityForm(request.POST))["priority"]
        services.ticket_change_priority(ticket=ticket, priority=priority, actor=request.user)
        return _("Priority changed; the SLA targets were re-dated.")

    return _action(request, pk, apply)


@staff_only
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a public reply or add an internal note. A public reply written while
    someone else added to the conversation is held back (409, draft kept) until
    the agent has read what is new and sends again."""
    ticket = _ticket_or_404(request, pk)
    if not can_work(request.user):
        raise PermissionDenied
    form = ReplyForm(request.POST)
    if not form.is_valid():
        for problem in form_problems(form):
            messages.error(request, problem)
        draft_kind = "note" if form.data.get("kind") == "note" else "public"
        return _workspace(request, ticket, status=400, draft=form.data.get("body", ""), draft_kind=draft_kind)
    body, seen = form.cleaned_data["body"], form.cleaned_data["seen"]
    public = form.cleaned_data["kind"] != "note"
    if public and seen is not None and not form.cleaned_data["send_anyway"]:
        newer = messages_since(ticket=ticket, after_id=seen, reader=request.user)
        if newer:
            return _workspace(request, ticket, status=409, draft=body, draft_kind="public", collided=newer)
    try:
        services.ticket_reply(ticket=ticket, author=request.user, body=body, public=public)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _workspace(request, ticket, status=400, draft=body, draft_kind="public" if public else "note")
    presence_leave(ticket_id=ticket.pk, user=request.user)
    messages.success(request, _("Reply sent to the consumer.") if public else _("Internal note added."))
    return redirect("desk:ticket", pk=ticket.pk)


@staff_only
@require_POST
def presence(request: HttpRequest, pk: int) -> JsonResponse:
    """The reply box's heartbeat: who else is writing on this ticket."""
    ticket = _ticket_or_404(request, pk)
    if request.POST.get("leaving"):
        presence_leave(ticket_id=ticket.pk, user=request.user)
        return JsonResponse({"others": []})
    return JsonResponse({"others": presence_beat(ticket_id=ticket.pk, user=request.user)})


@staff_only
@require_GET
def canned_answers(request: HttpRequest, pk: int) -> JsonResponse:
    """Canned answers for the reply box, filled in for this ticket."""
    ticket = _ticket_or_404(request, pk)
    query = request.GET.get("q", "")[:100]
    found = canned_search(ticket=ticket, agent=request.user, query=query)
    return JsonResponse(
        {
            "results": [
                {
                    "id": a.id,
                    "title": a.title,
                    "language": a.language,
                    "language_name": LANGUAGE_NAMES.get(a.language, a.language),
                    "faq": a.is_faq,
                    "text": a.text,
                }
                for a in found
            ]
        }
    )


@staff_only
@require_POST
def forward(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(ticket: Ticket) -> str:
        note = _cleaned(ForwardForm(request.POST))["note"][:2000]
        services.ticket_forward_to_merchant(ticket=ticket, actor=request.user, note=note)
        return _("Forwarded to the merchant: they have 24 hours to reply.")

    return _action(request, pk, apply)


# --- Several tickets, duplicates, phone calls -----------------------------------------

BULK_LIMIT = 200


@staff_only
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign, change the status or the priority of the rows ticked in the queue."""
    if not can_work(request.user):
        raise PermissionDenied
    form = BulkForm(request.POST)
    valid = form.is_valid()
    back = form.cleaned_data.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = reverse("desk:queue")
    if not valid:
        for problem in form_problems(form):
            messages.error(request, problem)
        return redirect(back)
    ids = form.cleaned_data["ticket"][:BULK_LIMIT]
    action = form.cleaned_data["action"]
    value = form.cleaned_data[action] if action in ("status", "priority", "assign") else ""
    tickets = list(tickets_visible_to(request.user).filter(pk__in=ids).order_by("pk"))
    if not tickets:
        messages.error(request, _("Tick at least one ticket first."))
        return redirect(back)
    try:
        if action == "assign":
            if value == "me":
                value = request.user
            elif value == "none":
                value = None
            else:
                pk = whole_number(value)
                value = colleagues(request.user).filter(pk=pk).first() if pk is not None else None
                if value is None:
                    raise ApplicationError(_("Choose whom to assign the tickets to."), code="invalid_assignee")
        result = services.tickets_bulk_update(tickets=tickets, action=action, value=value, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    if result.done:
        messages.success(
            request,
            ngettext("%(count)d ticket changed.", "%(count)d tickets changed.", len(result.done))
            % {"count": len(result.done)},
        )
    for ticket, reason in result.failed:
        messages.error(request, f"{ticket.reference}: {reason}")
    return redirect(back)


@staff_only
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge a duplicate (given by its reference) into this ticket, after a
    confirmation page that shows both."""
    ticket = _ticket_or_404(request, pk)
    if not can_work(request.user):
        raise PermissionDenied
    form = MergeForm(request.POST)
    if not form.is_valid():
        for problem in form_problems(form):
            messages.error(request, problem)
        return redirect("desk:ticket", pk=ticket.pk)
    reference = form.cleaned_data["source"].upper()
    source = (
        tickets_visible_to(request.user).select_related("category").filter(reference=reference).first()
        if reference
        else None
    )
    if source is None:
        messages.error(request, _("No ticket %(reference)s that you can see.") % {"reference": reference or "—"})
        return redirect("desk:ticket", pk=ticket.pk)
    if not form.cleaned_data["confirm"]:
        return render(
            request,
            "desk/merge_confirm.html",
            {
                "ticket": ticket,
                "source": source,
                "messages_count": source.messages.count(),
                "same_requester": same_requester(source, ticket),
            },
        )
    try:
        services.ticket_merge(source=source, into=ticket, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(source)s was merged into this ticket and closed.") % {"source": source.reference}
        )
    return redirect("desk:ticket", pk=ticket.pk)


@staff_only
def phone_call(request: HttpRequest) -> HttpResponse:
    """Log a phone call as a new ticket (channel phone). The service assigns it
    to the agent who took it when they may be assigned tickets of its team."""
    if not can_work(request.user):
        raise PermissionDenied
    form = PhoneCallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                **form.ticket_fields(),
                channel=Ticket.Channel.PHONE,
                priority=form.cleaned_data["priority"] or None,
                language=translation.get_language(),
                author=request.user,
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            if ticket_for_staff(request.user, ticket.pk) is not None:
                messages.success(request, _("Call logged as %(reference)s.") % {"reference": ticket.reference})
                return redirect("desk:ticket", pk=ticket.pk)
            messages.success(
                request,
                _("Call logged as %(reference)s and routed to team %(team)s.")
                % {"reference": ticket.reference, "team": ticket.team.name},
            )
            return redirect("desk:queue")
    status = 400 if request.method == "POST" else 200
    return render(request, "desk/phone.html", {"form": form}, status=status)


@staff_only
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The queue as CSV, with the same filters and the same visibility."""
    params, _view = _queue_params(request)
    _filter, rows = queue_queryset(user=request.user, params=params)
    rows = rows.select_related("category", "team", "merchant", "assignee")
    tz = ZoneInfo(settings.TIME_ZONE)

    def local(value):
        return timezone.localtime(value, tz).strftime("%Y-%m-%d %H:%M") if value else ""

    header = [
        _("Reference"), _("Created"), _("Subject"), _("Category"), _("Priority"), _("Status"), _("Team"),
        _("Shop id"), _("Merchant"), _("Assignee"), _("Channel"), _("Requester"), _("Next due"), _("Overdue"),
        _("Escalation level"), _("First responded"),
    ]  # fmt: skip

    def line(t: Ticket) -> list:
        return [
            t.reference, local(t.created_at), t.subject, t.category.name, t.get_priority_display(),
            t.get_status_display(), t.team.name, t.merchant.shop_id if t.merchant else "",
            t.merchant.name if t.merchant else "", t.assignee.get_username() if t.assignee else "",
            t.get_channel_display(), mask_contact(phone=t.requester_phone, email=t.requester_email), local(t.due_at),
            _("yes") if t.is_overdue else "", t.escalation_level, local(t.first_responded_at),
        ]  # fmt: skip

    lines = (line(t) for t in rows.iterator(chunk_size=2000))
    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M")
    return csv_response(f"tickets-{stamp}.csv", header, lines)


@staff_only
def profile(request: HttpRequest) -> HttpResponse:
    """The staff member's alias (shown to consumers) and email language."""
    instance = StaffProfile.objects.filter(user=request.user).first() or StaffProfile(user=request.user)
    form = StaffProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("desk:profile")
    status = 400 if request.method == "POST" else 200
    return render(request, "desk/profile.html", {"form": form}, status=status)
