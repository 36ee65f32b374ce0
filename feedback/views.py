"""The public feedback form (/feedback/). The managers read satisfaction and the
feedback inbox in the reports (reports.feedback_views)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy

from cs_desk.exceptions import ApplicationError
from cs_desk.forms import TextField
from cs_desk.ratelimit import client_ip, rate_limited_text, rate_limits_check, rate_limits_count
from feedback.models import Feedback
from feedback.services import feedback_submit

# A contact is an email or a phone number; mask_email masks either.

# --- The public form --------------------------------------------------------------------


class FeedbackForm(forms.ModelForm):
    class Meta:
        model = Feedback
        fields = ["topic", "body", "contact"]
        field_classes = {"body": TextField, "contact": TextField}
        widgets = {"body": forms.Textarea(attrs={"rows": 6, "maxlength": 2000})}
        labels = {"body": gettext_lazy("Your suggestion or remark")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Words in the list, not Django's "---------".
        self.fields["topic"].choices = [("", gettext_lazy("Choose a topic")), *self.fields["topic"].choices[1:]]


def feedback_new(request: HttpRequest) -> HttpResponse:
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST":
        verdict = rate_limits_check([("feedback_ip", client_ip(request))])
        if not verdict.allowed:
            form.add_error(None, rate_limited_text(verdict))
            status = 429
        elif form.is_valid():
            try:
                feedback_submit(
                    topic=form.cleaned_data["topic"],
                    body=form.cleaned_data["body"],
                    contact=form.cleaned_data["contact"],
                    language=get_language() or "zh-hans",
                )
            except ApplicationError as exc:
                form.add_error(exc.field, exc.message)
            else:
                rate_limits_count([("feedback_ip", client_ip(request))])
                return redirect("feedback:thanks")
        status = status if status != 200 else 400
    return render(request, "feedback/new.html", {"form": form}, status=status)


def feedback_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "feedback/thanks.html")


# --- Satisfaction -----------------------------------------------------------------------
