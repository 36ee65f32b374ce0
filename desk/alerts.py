"""The desk's alerts page: the breaches and escalations of the tickets one must act
on (``tickets.staff_alerts``), newest first; each links to its ticket, whose
workspace marks it seen. Also pushed live to the desk's pages (``desk.live``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from desk.views import staff_only
from tickets.staff_alerts import staff_alerts_of, staff_alerts_seen


@staff_only
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    return render(request, "desk/alerts.html", {"alerts": staff_alerts_of(request.user)})


@staff_only
@require_POST
def alerts_seen(request: HttpRequest) -> HttpResponse:
    count = staff_alerts_seen(request.user, now=timezone.now())
    text = ngettext("%(count)d alert marked as read.", "%(count)d alerts marked as read.", count)
    messages.success(request, text % {"count": count})
    return redirect("desk:alerts")
