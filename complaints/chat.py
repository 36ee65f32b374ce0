"""The consumer's chat pages: start a chat (在线客服), the chat window, and a
picture sent in it. The conversation itself travels over the chat socket
(``complaints.live``); these pages use the same token guard, rate limits and
intake rules as the complaint form and the tracking page."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from complaints.forms import ChatPictureForm, ChatStartForm
from complaints.views import _complaint_limits, _private, _ticket_or_404, _too_many, token_guarded
from cs_desk.exceptions import ApplicationError
from cs_desk.ratelimit import client_ip, rate_limited_text, rate_limits_check, rate_limits_count
from tickets.chats import chat_messages, chat_state_payload
from tickets.models import Category, Ticket
from tickets.selectors import ticket_promised
from tickets.services.chat import chat_consumer_send, chat_staffed, chat_start


def _initial(request: HttpRequest) -> dict:
    """What the chat is about, from the page that opened it (a tracking page's
    complaint: its category, shop and order)."""
    initial = {}
    category = request.GET.get("category", "")
    if category.isdigit() and Category.objects.filter(pk=category, is_active=True).exists():
        initial["category"] = int(category)
    for name in ("shop", "order_number"):
        if request.GET.get(name):
            initial[name] = request.GET[name][:64]
    return initial


def _staffed_categories() -> set[int]:
    """The categories an agent could take a chat of right now (the page says which)."""
    return {c.pk for c in Category.objects.filter(is_active=True) if chat_staffed(category=c)}


@never_cache
@require_http_methods(["GET", "POST"])
def chat_new(request: HttpRequest) -> HttpResponse:
    template = "complaints/chat_new.html"
    if request.method != "POST":
        form = ChatStartForm(initial=_initial(request))
        return render(request, template, {"form": form, "staffed": _staffed_categories()})
    address = client_ip(request)
    form = ChatStartForm(request.POST, request.FILES)
    context = {"form": form, "staffed": _staffed_categories()}
    verdict = rate_limits_check([("complaint_ip", address)])
    if verdict.allowed and form.is_valid():
        limits = _complaint_limits(address, form.cleaned_data)
        verdict = rate_limits_check(limits)
        if verdict.allowed:
            try:
                ticket = chat_start(**form.chat_fields(), language=get_language())
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                rate_limits_count(limits)
                return redirect("complaints:chat", token=ticket.tracking_token)
    if not verdict.allowed:
        context["rate_limited"] = rate_limited_text(verdict)
        return _too_many(render(request, template, context, status=429), verdict)
    return render(request, template, context, status=400)


def _chat_ticket(request: HttpRequest, token: str) -> tuple[Ticket, dict]:
    ticket = _ticket_or_404(request, token)
    state = chat_state_payload(ticket=ticket)
    if state is None:
        raise Http404
    return ticket, state


@never_cache
@require_http_methods(["GET"])
@token_guarded
def chat(request: HttpRequest, token: str) -> HttpResponse:
    """The chat window: the conversation so far, then live over the socket."""
    ticket, state = _chat_ticket(request, token)
    messages = chat_messages(ticket=ticket)
    response_due, _resolution_due = ticket_promised(ticket=ticket)
    context = {
        "due": response_due,
        "ticket": ticket,
        "state": state,
        "messages": messages,
        "last_id": messages[-1]["id"] if messages else 0,
        "socket_path": f"/ws/chat/{token}/",
        "live_url": settings.LIVE_URL,
        "tracking_url": request.build_absolute_uri(reverse("complaints:tracking", kwargs={"token": token})),
        "max_chars": settings.MESSAGE_MAX_CHARS,
    }
    return _private(render(request, "complaints/chat.html", context))


@never_cache
@require_POST
@token_guarded
def chat_picture(request: HttpRequest, token: str) -> JsonResponse:
    """A picture sent in the chat (the evidence checks of every door): answered
    with the message's id, or 400 with what is wrong, or 429."""
    ticket, _state = _chat_ticket(request, token)
    limits = [("chat_ip", client_ip(request)), ("chat_ticket", ticket.tracking_token)]
    verdict = rate_limits_check(limits)
    if not verdict.allowed:
        response = JsonResponse({"error": rate_limited_text(verdict)}, status=429)
        return _too_many(response, verdict)
    form = ChatPictureForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": " ".join(str(e) for errors in form.errors.values() for e in errors)}, status=400)
    try:
        message, _new = chat_consumer_send(
            ticket=ticket, body=form.cleaned_data["body"].strip() or "📷", evidence=form.cleaned_data["evidence"]
        )
    except ApplicationError as error:
        return JsonResponse({"error": str(error.message)}, status=400)
    rate_limits_count(limits)
    return JsonResponse({"id": message.pk})
