"""The original of an incoming email, for staff who may see its ticket (or who
see everything, for mail that reached no ticket): its headers and whole text as
text, its attachments named, and the raw message as a download (never shown
inline: a browser must not render a stranger's HTML on our origin)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mail.models import InboundMail
from mail.parsing import MailUnreadable, mail_parse
from tickets.access import rows_visible_to


def _visible_or_404(request: HttpRequest, pk: int) -> InboundMail:
    found = rows_visible_to(request.user, InboundMail.objects.select_related("ticket")).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@login_required
def original(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _visible_or_404(request, pk)
    try:
        parsed = mail_parse(bytes(inbound.raw))
    except MailUnreadable:
        parsed = None
    return render(request, "mail/original.html", {"inbound": inbound, "parsed": parsed})


@login_required
def original_download(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _visible_or_404(request, pk)
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="mail-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
