"""The page a locked-out sign-in gets, on every login form (desk, merchant
portal, admin).

django-axes counts failed sign-ins by account and by client address (settings:
``AXES_*``); once either reaches ``AXES_FAILURE_LIMIT`` it refuses further
attempts, right password or not, until ``AXES_COOLOFF_TIME`` has passed since
the last one. This module answers such an attempt: the same sign-in page, with
the form's error saying why and for how long, status 429 and ``Retry-After``.
The password is never checked while locked out.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cs_desk.ratelimit import client_ip


def client_address(request: HttpRequest) -> str | None:
    """The client address axes counts failures by: the one every rate limit uses
    (``cs_desk.ratelimit.client_ip``), or None when the request has none (a test
    client's ``force_login``)."""
    address = client_ip(request)
    return None if address == "unknown" else address


def lockout_message(minutes: int) -> str:
    return ngettext(
        "Too many failed sign-ins. For your security, sign-in is paused: try again in %(minutes)d minute.",
        "Too many failed sign-ins. For your security, sign-in is paused: try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _locked_form(form_class: type[AuthenticationForm], request: HttpRequest, message: str) -> AuthenticationForm:
    """The door's own form, bound to what was typed (the password is never shown
    again), with ``message`` as its error and no authentication attempted."""

    class LockedForm(form_class):
        def clean(self):
            raise forms.ValidationError(message, code="locked_out")

    form = LockedForm(request, data=request.POST)
    form.is_valid()
    return form


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    message = lockout_message(max(math.ceil(seconds / 60), 1))
    match = request.resolver_match
    view_class = getattr(match.func, "view_class", None) if match else None
    if view_class is not None and hasattr(view_class, "authentication_form"):
        # The desk's and the merchant portal's LoginView.
        view = view_class(**match.func.view_initkwargs)
        view.setup(request, *match.args, **match.kwargs)
        form = _locked_form(view.get_form_class(), request, message)
        response = TemplateResponse(request, view.get_template_names(), view.get_context_data(form=form), status=429)
    else:
        # The admin's login (the only other form that signs in).
        site = admin.site
        form = _locked_form(site.login_form or AdminAuthenticationForm, request, message)
        context = {
            **site.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "form": form,
            REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME, ""),
        }
        response = TemplateResponse(request, site.login_template or "admin/login.html", context, status=429)
    response.render()
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
