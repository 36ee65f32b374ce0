"""Forms of the agent desk."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cs_desk.forms import IdsField, TextField
from tickets.forms import IntakeForm
from tickets.models import StaffProfile, Ticket


class PhoneCallForm(IntakeForm):
    """A complaint taken on the phone: the intake fields every form shares
    (mobile number, shop, order number; ``tickets.forms.IntakeForm``), worded
    for the agent, with a priority. The service assigns the ticket to the agent
    who took the call when it may be assigned to them."""

    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("The category's default")), *Ticket.Priority.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {
            "requester_name": _("Caller's name"),
            "requester_phone": _("Caller's mobile phone"),
            # The desk's field template adds "(optional)" to a field that is.
            "requester_email": _("Caller's email"),
            "category": _("Category"),
            "shop": _("Shop"),
            "order_number": _("Order number"),
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
        field_classes = {"alias": TextField, "time_zone": TextField}
        labels = {"language": _("Language of the emails you receive")}
        widgets = {"time_zone": forms.TextInput(attrs={"placeholder": "Asia/Shanghai"})}


# --- The workspace's actions -----------------------------------------------------------
# Each keeps the service as the judge of what is allowed; the form only makes sure
# that what reaches it is text the database can hold.


class ReplyForm(forms.Form):
    """The reply box. ``seen`` is the newest message the agent had on screen: a
    public reply is held back when others have written since."""

    body = TextField(label=_("Reply"), required=False, strip=False)
    kind = forms.ChoiceField(
        required=False,
        choices=[("public", _("Public reply to the consumer")), ("note", _("Internal note"))],
    )
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    send_anyway = forms.BooleanField(label=_("Send my reply anyway"), required=False)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("Choose a member of the ticket's team.")},
    )

    def __init__(self, *args, assignable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable


class StatusForm(forms.Form):
    status = TextField(label=_("Status"), required=False)


class PriorityForm(forms.Form):
    priority = TextField(label=_("Priority"), required=False)


class ForwardForm(forms.Form):
    note = TextField(label=_("Note to the merchant"), required=False)


class MergeForm(forms.Form):
    source = TextField(label=_("Merge a duplicate into this ticket"), required=False)
    confirm = forms.BooleanField(required=False)


class BulkForm(forms.Form):
    """The queue's bulk bar: the ticked rows, the action and its value (one
    field per action), and the queue page to go back to."""

    ticket = IdsField(required=False)
    action = TextField(required=False)
    status = TextField(label=_("Status"), required=False)
    priority = TextField(label=_("Priority"), required=False)
    assign = TextField(label=_("Assignee"), required=False)
    next = TextField(required=False)
