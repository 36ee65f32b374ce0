"""Forms of the consumer's pages: the complaint form and the reply box.

They validate what a person typed and say what is wrong next to the field;
the services decide everything else."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.utils.translation import gettext_lazy as _

from cs_desk.forms import TextField, by_rule
from tickets.forms import IntakeForm
from tickets.models import Ticket
from tickets.privacy import mask_email, mask_phone
from tickets.rules import evidence_count_check, message_clean, message_max_chars
from tickets.uploads import CleanFile, evidence_clean

ACCEPTED_TYPES = "image/png,image/jpeg,image/gif,image/webp,application/pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Up to ``EVIDENCE_MAX_FILES`` files (the rule the services apply), each
    checked by content and cleaned (tickets.uploads). Every refused file is
    named in its own error."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "accept": ACCEPTED_TYPES,
                "data-max-bytes": settings.EVIDENCE_MAX_FILE_BYTES,
                "data-max-files": settings.EVIDENCE_MAX_FILES,
            }
        )

    def clean(self, data, initial=None) -> list[CleanFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        by_rule(evidence_count_check, files)
        cleaned, errors = [], []
        for upload in files:
            try:
                cleaned.append(evidence_clean(upload))
            except ValidationError as error:
                errors.extend(error.error_list)
        if errors:
            raise ValidationError(errors)
        return cleaned


def _evidence_field() -> EvidenceField:
    mb = settings.EVIDENCE_MAX_FILE_BYTES // (1024 * 1024)
    return EvidenceField(
        label=_("Evidence (optional)"),
        help_text=_(
            "Up to %(files)d chat screenshots, photos or PDF files, at most %(mb)d MB each. "
            "Photos are re-saved without their location data."
        )
        % {"files": settings.EVIDENCE_MAX_FILES, "mb": mb},
    )


class HoneypotMixin(forms.Form):
    """A field people never see (hidden by the stylesheet) and bots fill in."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(_("This submission could not be accepted."), code="honeypot")
        return ""


class ComplaintForm(HoneypotMixin, IntakeForm):
    """The consumer's complaint: the intake fields every form shares
    (``tickets.forms.IntakeForm``), the evidence files, the spam trap, and the
    closed complaint a follow-up continues (its tracking token)."""

    follows = TextField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, follows: Ticket | None = None, **kwargs):
        super().__init__(*args, follows=follows, **kwargs)
        # Built per form: the help text gives the limits in force.
        self.fields["evidence"] = _evidence_field()
        self.order_fields([*(n for n in self.fields if n not in ("evidence", "website")), "evidence", "website"])
        # A follow-up keeps the closed complaint's name and contact for every field
        # left empty, and shows them no more than the tracking page would: masked.
        if follows is not None:
            self.fields["requester_name"].help_text = _("Leave empty to keep the name you gave last time.")
            kept = {
                "requester_phone": mask_phone(follows.requester_phone),
                "requester_email": mask_email(follows.requester_email),
            }
            for name, masked in kept.items():
                if masked:
                    self.fields[name].help_text = _("Leave empty to keep %(contact)s.") % {"contact": masked}


class ReplyForm(HoneypotMixin, forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write your reply first.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"] = _evidence_field()
        self.fields["body"].widget.attrs["maxlength"] = message_max_chars()
        self.order_fields(["body", "evidence", "website"])

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError(_("Write your reply first."), code="required")
        return by_rule(message_clean, body)


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your complaint?"),
        choices=[
            (5, _("5 – Very satisfied")),
            (4, _("4 – Satisfied")),
            (3, _("3 – Neither")),
            (2, _("2 – Dissatisfied")),
            (1, _("1 – Very dissatisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ChatStartForm(HoneypotMixin, IntakeForm):
    """Starting a chat: what it is about (category, and if it concerns one, the
    shop and the order), who is asking and how to reach them, the first message
    and perhaps a picture. The intake's rules, as on the complaint form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        description = self.fields["description"]
        description.label, description.min_length, description.help_text = _("Your message"), 2, ""
        description.validators = [v for v in description.validators if not isinstance(v, MinLengthValidator)]
        description.validators.append(MinLengthValidator(2))
        description.widget.attrs.update({"rows": 3, "minlength": 2})
        self.fields["category"].widget = forms.Select(choices=self.fields["category"].widget.choices)
        self.fields["evidence"] = _evidence_field()
        self.fields["evidence"].label = _("Picture (optional)")
        self.order_fields(
            ["category", "description", "requester_name", "requester_phone", "requester_email", "shop", "order_number"]
        )

    def chat_fields(self) -> dict:
        """What ``tickets.services.chat.chat_start`` takes from this form."""
        fields = self.ticket_fields()
        fields.pop("subject")
        return fields | {"evidence": self.cleaned_data["evidence"]}


class ChatPictureForm(forms.Form):
    """A picture sent in the chat, with an optional line of text."""

    body = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"] = _evidence_field()
        self.fields["evidence"].required = True
        self.fields["evidence"].error_messages["required"] = _("Choose a picture first.")
