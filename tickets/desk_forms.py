"""Forms of the agent desk."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.consumer_forms import ComplaintForm
from tickets.models import StaffProfile, Ticket


class PhoneCallForm(ComplaintForm):
    """A complaint taken on the phone: the consumer form's fields and checks
    (mobile number, shop, order number), worded for the agent, without the
    consumer's evidence upload and spam trap, and with a priority."""

    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("The category's default")), *Ticket.Priority.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("evidence", "website", "follows"):
            del self.fields[name]
        labels = {
            "requester_name": _("Caller's name"),
            "requester_phone": _("Caller's mobile phone"),
            "requester_email": _("Caller's email (optional)"),
            "category": _("Category"),
            "shop": _("Shop (optional)"),
            "description": _("What the caller reported"),
        }
        for name, label in labels.items():
            self.fields[name].label = label
        self.fields["category"].widget = forms.Select(choices=self.fields["category"].choices)
        self.fields["description"].help_text = _("The first line becomes the subject.")
        self.fields["requester_email"].help_text = ""


class StaffProfileForm(forms.ModelForm):
    class Meta:
        model = StaffProfile
        fields = ["alias", "language", "time_zone"]
        labels = {"language": _("Language of the emails you receive")}
        widgets = {"time_zone": forms.TextInput(attrs={"placeholder": "Asia/Shanghai"})}
