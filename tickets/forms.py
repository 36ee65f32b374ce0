"""Forms of the ticket domain: the fields of a complaint taken by form, which
the consumer's form and the phone-call form share (``IntakeForm``), and the
admin's forms and formsets, whose validation the database constraints back up,
shown as form errors instead of a server error."""

from __future__ import annotations

from itertools import pairwise

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError
from cs_desk.forms import CANNOT_STORE, TextField, by_rule
from tickets.access import assignable_users
from tickets.models import BusinessCalendar, CalendarDay, Category, SLAPolicy, Ticket
from tickets.phones import phone_normalise
from tickets.policies import PolicyQuestion
from tickets.rules import (
    NAME_MAX,
    ORDER_NUMBER_MAX,
    contact_check,
    email_clean,
    message_clean,
    message_max_chars,
    order_number_clean,
    requester_name_clean,
)
from tickets.selectors import merchant_for_shop
from tickets.services import ALLOWED as ALLOWED_TRANSITIONS
from tickets.services.intake import REQUESTER_FIELDS, requester_kept

User = get_user_model()


# --- Taking a complaint ----------------------------------------------------------------


class IntakeForm(forms.Form):
    """The fields of a complaint taken by form: the consumer's (complaints) and
    the one an agent fills in during a phone call (desk). Each is checked by the
    rule ``tickets.services.ticket_create`` applies again, in the same words, so
    that every problem shows next to its field at once; the service's own
    refusal, if any, is added by the view. ``follows`` is the closed complaint
    a follow-up continues: its name and contact fill those left empty."""

    requester_name = TextField(label=_("Your name"), widget=forms.TextInput(attrs={"maxlength": NAME_MAX}))
    requester_phone = TextField(
        label=_("Mobile phone"),
        required=False,
        help_text=_("A mobile or landline, e.g. 138 0013 8000; from abroad, start with + and the country code."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "maxlength": 20}),
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
    shop = TextField(
        label=_("Shop (optional)"),
        required=False,
        max_length=200,  # a shop's name is no longer
        help_text=_("The shop's name or shop id, if the complaint is about a shop."),
        widget=forms.TextInput(attrs={"list": "shop-options", "autocomplete": "off"}),
    )
    order_number = TextField(
        label=_("Order number (optional)"),
        required=False,
        help_text=_("6 to 32 letters, digits or dashes, as shown in your order list."),
        widget=forms.TextInput(attrs={"maxlength": ORDER_NUMBER_MAX}),
    )
    description = TextField(
        label=_("What happened?"),
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("When it happened, what you expected, and what you have tried."),
    )

    def __init__(self, *args, follows: Ticket | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.follows = follows
        if follows is not None:
            self.fields["requester_name"].required = False
        # Built per form: the limit in force.
        self.fields["description"].widget.attrs["maxlength"] = message_max_chars()
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.error_messages["null_characters_not_allowed"] = CANNOT_STORE

    def clean_requester_name(self) -> str:
        name = self.cleaned_data["requester_name"]
        if not name.strip() and self.follows is not None:
            return ""  # the closed complaint's (clean)
        return by_rule(requester_name_clean, name)

    def clean_requester_phone(self) -> str:
        return by_rule(phone_normalise, self.cleaned_data["requester_phone"])

    def clean_requester_email(self) -> str:
        return by_rule(email_clean, self.cleaned_data["requester_email"])

    def clean_shop(self):
        return by_rule(merchant_for_shop, self.cleaned_data["shop"])

    def clean_order_number(self) -> str:
        return by_rule(order_number_clean, self.cleaned_data["order_number"])

    def clean_description(self) -> str:
        return by_rule(message_clean, self.cleaned_data["description"])

    def clean(self) -> dict:
        data = super().clean()
        typed = {name: data[name] for name in REQUESTER_FIELDS if name in data}
        data.update(requester_kept(follows=self.follows, requester=typed))
        if "requester_phone" not in self.errors and "requester_email" not in self.errors:
            try:
                contact_check(phone=data.get("requester_phone", ""), email=data.get("requester_email", ""))
            except ApplicationError as error:
                raise forms.ValidationError(error.message, code=error.code) from error
        return data

    def add_service_error(self, error: ApplicationError) -> None:
        """The service's refusal next to the field it names (this form calls the
        message the description and the merchant the shop), else above the form."""
        name = {"body": "description", "subject": "description", "merchant": "shop"}.get(error.field, error.field)
        self.add_error(name if name in self.fields else None, error.message)

    @property
    def subject(self) -> str:
        """A ticket's subject from the first line of the description."""
        first = self.cleaned_data["description"].strip().splitlines()[0].strip()
        return first if len(first) <= 60 else first[:59] + "…"

    def ticket_fields(self) -> dict:
        """What ``tickets.services.ticket_create`` takes from this form."""
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


# --- The admin ---------------------------------------------------------------------------


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "is_default"]
        help_texts = {
            "time_zone": _("An IANA time zone name, e.g. Asia/Shanghai. Working periods are wall-clock times there."),
            "is_default": _("Only one calendar can be the default."),
        }

    def clean_is_default(self) -> bool:
        is_default = self.cleaned_data["is_default"]
        if is_default and BusinessCalendar.objects.filter(is_default=True).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                _("Another calendar is already the default. Untick it there first."), code="one_default"
            )
        return is_default


class WorkingPeriodFormSet(BaseInlineFormSet):
    """At least one working period a day, each closing after it opens, none
    overlapping another (periods may touch: 09:00–12:00 and 12:00–18:00)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # a period is already invalid on its own (e.g. closes before it opens)
        periods = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            opens, closes = form.cleaned_data.get("opens"), form.cleaned_data.get("closes")
            if opens is None or closes is None:
                continue
            periods.append((opens, closes))
        if not periods:
            raise forms.ValidationError(
                _("A calendar needs at least one working period a day (for example 09:00–18:00)."),
                code="no_periods",
            )
        periods.sort()
        for (opens1, closes1), (opens2, closes2) in pairwise(periods):
            if opens2 < closes1:
                raise forms.ValidationError(
                    _("The working periods %(first)s and %(second)s overlap."),
                    code="overlap",
                    params={
                        "first": f"{opens1:%H:%M}–{closes1:%H:%M}",
                        "second": f"{opens2:%H:%M}–{closes2:%H:%M}",
                    },
                )


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["calendar", "date", "kind", "name"]

    def save(self, commit: bool = True) -> CalendarDay:
        # A day entered or corrected by hand is the administrator's: reseeding the
        # official schedule leaves it alone.
        self.instance.source = CalendarDay.Source.ADMIN
        return super().save(commit=commit)


class SLAPolicyForm(forms.ModelForm):
    AMOUNT_FIELDS = tuple(f"{target}_amount" for target in SLAPolicy.TARGETS)
    LADDER_FIELDS = ("warning_percent", "breach_percent", "level2_percent")

    class Meta:
        model = SLAPolicy
        fields = [
            "name",
            "position",
            *SLAPolicy.CONDITIONS,
            "calendar",
            *(f"{target}_{part}" for target in SLAPolicy.TARGETS for part in ("amount", "unit", "clock")),
            "warning_percent",
            "breach_percent",
            "level2_percent",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_fallback:
            # Every priority keeps its fallback: its conditions are not edited.
            for name in SLAPolicy.CONDITIONS:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("The fallback of its priority: its conditions stay as they are.")
        for name in self.AMOUNT_FIELDS:
            if name in self.fields:
                self.fields[name].widget.attrs["min"] = 1
                self.fields[name].validators.append(
                    MinValueValidator(1, message=_("A target must be longer than zero."))
                )

    def clean(self) -> dict:
        cleaned = super().clean()
        self._fallback_check(cleaned)
        ladder = [cleaned.get(name) for name in self.LADDER_FIELDS]
        if None not in ladder and not (0 < ladder[0] < ladder[1] < ladder[2]):
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "The ladder must rise: 0 < warning (%(warning)s %%) < breach (%(breach)s %%) "
                        "< level 2 (%(level2)s %%)."
                    ),
                    code="ladder",
                    params=dict(zip(("warning", "breach", "level2"), ladder, strict=True)),
                ),
            )
            # Keep the rejected values off the instance, so that the model's own
            # check and the database constraint do not repeat the same error.
            for name in self.LADDER_FIELDS:
                cleaned.pop(name, None)
        return cleaned

    def _fallback_check(self, cleaned: dict) -> None:
        """A priority and no other condition makes a fallback: one per priority.
        Any other policy is named, so that people tell it from the fallbacks."""
        priority = cleaned.get("priority")
        others = [cleaned.get(name) for name in SLAPolicy.CONDITIONS if name != "priority"]
        if (not priority or any(others)) and not (cleaned.get("name") or "").strip():
            self.add_error(
                "name",
                forms.ValidationError(
                    _("Name a policy with conditions, so that people can tell it from the fallbacks."),
                    code="name_required",
                ),
            )
        if not priority or any(others) or (self.instance.pk and self.instance.is_fallback):
            return
        if SLAPolicy.objects.filter(is_fallback=True, priority=priority).exclude(pk=self.instance.pk).exists():
            self.add_error(
                "priority",
                forms.ValidationError(
                    _(
                        "This priority already has its fallback policy; edit that one, or give this policy "
                        "another condition (channel, category, team or merchant)."
                    ),
                    code="fallback_exists",
                ),
            )


class PolicyWhichForm(forms.Form):
    """The admin's question: which policy would such a ticket get?"""

    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("sort_order", "code"), label=_("category"), required=False
    )
    channel = forms.ChoiceField(label=_("channel"), choices=Ticket.Channel.choices, initial=Ticket.Channel.WEB)
    priority = forms.ChoiceField(
        label=_("priority"),
        choices=[("", _("the category's default")), *Ticket.Priority.choices],
        required=False,
    )
    merchant = forms.ModelChoiceField(queryset=Merchant.objects.order_by("name"), label=_("merchant"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("priority") and not cleaned.get("category"):
            raise forms.ValidationError(_("Choose a category or a priority."), code="required")
        return cleaned

    def question(self) -> PolicyQuestion:
        merchant = self.cleaned_data["merchant"]
        return PolicyQuestion.asked(
            category=self.cleaned_data["category"],
            priority=self.cleaned_data["priority"],
            channel=self.cleaned_data["channel"],
            merchant_id=merchant.pk if merchant else None,
        )


def ticket_version(ticket: Ticket) -> str:
    """Changes whenever anything writes the ticket (services, the sweep, the admin)."""
    return ticket.updated_at.isoformat() if ticket.updated_at else ""


class TicketAdminForm(forms.ModelForm):
    """Status, priority and assignee are applied through :mod:`tickets.services`
    by :meth:`tickets.admin.tickets.TicketAdmin.save_model`, exactly as in the agent
    workspace; the other fields describe the complaint and are saved as they are."""

    SERVICE_FIELDS = ("assignee", "priority", "status")
    loaded_version = forms.CharField(label=_("version as loaded"), widget=forms.HiddenInput, required=False)

    class Meta:
        model = Ticket
        fields = [
            "subject",
            "requester_name",
            "requester_email",
            "requester_phone",
            "language",
            "channel",
            "order_number",
            "status",
            "priority",
            "assignee",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        ticket = self.instance
        self.fields["loaded_version"].initial = ticket_version(ticket)
        if "status" in self.fields:
            allowed = {ticket.status, *ALLOWED_TRANSITIONS.get(ticket.status, ())}
            self.fields["status"].choices = [(v, label) for v, label in Ticket.Status.choices if v in allowed]
            self.fields["status"].help_text = _(
                "Only the moves an agent may make from the current status are offered. "
                "“Awaiting merchant” is entered by forwarding the ticket to the merchant."
            )
        if "assignee" in self.fields:
            widget = self.fields["assignee"].widget
            # Pick an agent here; adding or editing users belongs on the user pages.
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
            # The ticket's team, as on the desk and the API (the service refuses anyone else).
            self.fields["assignee"].queryset = User.objects.filter(
                Q(pk__in=assignable_users(None, ticket).values("pk")) | Q(pk=ticket.assignee_id)
            ).order_by("username")

    def clean_requester_phone(self) -> str:
        return by_rule(phone_normalise, self.cleaned_data["requester_phone"])

    def clean_order_number(self) -> str:
        return by_rule(order_number_clean, self.cleaned_data["order_number"])

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("loaded_version") != ticket_version(self.instance):
            raise forms.ValidationError(
                _(
                    "This ticket changed while you were editing it (a reply, the SLA sweep or another agent). "
                    "Reload the page and make your change again."
                ),
                code="stale",
            )
        if "requester_email" in cleaned and "requester_phone" in cleaned:
            try:
                contact_check(phone=cleaned["requester_phone"], email=cleaned["requester_email"])
            except ApplicationError as error:
                raise forms.ValidationError(error.message, code=error.code) from error
        return cleaned
