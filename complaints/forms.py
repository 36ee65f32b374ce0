"""Forms of the consumer's pages: the complaint form and the reply box.

They validate what a person typed and say what is wrong next to the field;
the services decide everything else."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from cs_desk.forms import TextField, by_rule
from merchants.models import Merchant
from tickets.models import Category, Ticket
from tickets.phones import phone_normalise
from tickets.privacy import mask_email, mask_phone
from tickets.rules import ORDER_NUMBER_MAX, message_clean, message_max_chars, order_number_clean
from tickets.uploads import CleanFile, evidence_clean

ACCEPTED_TYPES = "image/png,image/jpeg,image/gif,image/webp,application/pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Up to ``EVIDENCE_MAX_FILES`` files, each checked by content and cleaned
    (tickets.uploads). Every refused file is named in its own error."""

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
        limit = settings.EVIDENCE_MAX_FILES
        if len(files) > limit:
            raise ValidationError(
                ngettext_lazy("Send at most %(limit)d file.", "Send at most %(limit)d files.", "limit"),
                code="too_many_files",
                params={"limit": limit},
            )
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


class ComplaintForm(HoneypotMixin, forms.Form):
    requester_name = forms.CharField(label=_("Your name"), max_length=100)
    requester_phone = forms.CharField(
        label=_("Mobile phone"),
        required=False,
        max_length=20,
        help_text=_("A mobile or landline, e.g. 138 0013 8000; from abroad, start with + and the country code."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    requester_email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("We send the confirmation and our replies here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    category = forms.ModelChoiceField(
        label=_("What is the problem about?"),
        queryset=Category.objects.filter(is_active=True),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what the problem is about.")},
    )
    shop = forms.CharField(
        label=_("Shop (optional)"),
        required=False,
        max_length=200,
        help_text=_("The shop's name or shop id, if the complaint is about a shop."),
        widget=forms.TextInput(attrs={"list": "shop-options", "autocomplete": "off"}),
    )
    order_number = forms.CharField(
        label=_("Order number (optional)"),
        required=False,
        max_length=ORDER_NUMBER_MAX,
        help_text=_("6 to 32 letters, digits or dashes, as shown in your order list."),
    )
    description = forms.CharField(
        label=_("What happened?"),
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("When it happened, what you expected, and what you have tried."),
    )
    # The closed complaint this one continues (its tracking token), if any.
    follows = TextField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, follows: Ticket | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form: the help text gives the limits in force.
        self.fields["evidence"] = _evidence_field()
        self.fields["description"].widget.attrs["maxlength"] = message_max_chars()
        self.order_fields([*(n for n in self.fields if n not in ("evidence", "website")), "evidence", "website"])
        # A follow-up keeps the closed complaint's name and contact for every field
        # left empty, and shows them no more than the tracking page would: masked.
        self.follows = follows
        if follows is not None:
            self.fields["requester_name"].required = False
            self.fields["requester_name"].help_text = _("Leave empty to keep the name you gave last time.")
            kept = {
                "requester_phone": mask_phone(follows.requester_phone),
                "requester_email": mask_email(follows.requester_email),
            }
            for name, masked in kept.items():
                if masked:
                    self.fields[name].help_text = _("Leave empty to keep %(contact)s.") % {"contact": masked}

    def clean_requester_name(self) -> str:
        name = self.cleaned_data["requester_name"].strip()
        if not name and self.follows is not None:
            return self.follows.requester_name
        if not name:
            raise ValidationError(_("Tell us your name."), code="required")
        return name

    def clean_requester_phone(self) -> str:
        return by_rule(phone_normalise, self.cleaned_data["requester_phone"])

    def clean_shop(self) -> Merchant | None:
        value = self.cleaned_data["shop"].strip()
        if not value:
            return None
        exact = Merchant.objects.filter(shop_id__iexact=value).first() or Merchant.objects.filter(name=value).first()
        if exact is not None:
            return exact
        found = list(Merchant.objects.filter(name__icontains=value)[:2])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValidationError(
                _("Several shops match “%(value)s”; choose one from the list or enter its shop id."),
                code="ambiguous_shop",
                params={"value": value},
            )
        raise ValidationError(
            _("No shop matches “%(value)s”. Check the name or leave the field empty."),
            code="unknown_shop",
            params={"value": value},
        )

    def clean_order_number(self) -> str:
        return by_rule(order_number_clean, self.cleaned_data["order_number"])

    def clean_description(self) -> str:
        return by_rule(message_clean, self.cleaned_data["description"])

    def clean(self) -> dict:
        data = super().clean()
        if self.follows is not None:
            for name in ("requester_phone", "requester_email"):
                if name not in self.errors and not data.get(name):
                    data[name] = getattr(self.follows, name)
        typed_badly = "requester_phone" in self.errors or "requester_email" in self.errors
        if not typed_badly and not data.get("requester_phone") and not data.get("requester_email"):
            raise ValidationError(
                _("Give a mobile number or an email address so that we can reply."), code="contact_required"
            )
        return data

    @property
    def subject(self) -> str:
        """A ticket's subject from the first line of the description."""
        first = self.cleaned_data["description"].strip().splitlines()[0].strip()
        return first if len(first) <= 60 else first[:59] + "…"

    def ticket_fields(self) -> dict:
        """What ``services.ticket_create`` takes from this form."""
        data = self.cleaned_data
        return {
            "category": data["category"],
            "subject": self.subject,
            "body": data["description"],
            "requester_name": data["requester_name"],
            "requester_email": data["requester_email"],
            "requester_phone": data["requester_phone"],
            "merchant": data["shop"],
            "order_number": data["order_number"],
        }


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
