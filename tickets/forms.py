"""Admin forms and formsets: validation the database constraints back up, shown
as form errors instead of a server error."""

from __future__ import annotations

from itertools import pairwise

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from cs_desk.forms import by_rule
from tickets.access import assignable_users
from tickets.models import BusinessCalendar, CalendarDay, SLAPolicy, Ticket
from tickets.phones import phone_normalise
from tickets.rules import order_number_clean
from tickets.services import ALLOWED as ALLOWED_TRANSITIONS

User = get_user_model()


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
            "priority",
            "calendar",
            *(f"{target}_{part}" for target in SLAPolicy.TARGETS for part in ("amount", "unit", "clock")),
            "warning_percent",
            "breach_percent",
            "level2_percent",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in self.AMOUNT_FIELDS:
            if name in self.fields:
                self.fields[name].widget.attrs["min"] = 1
                self.fields[name].validators.append(
                    MinValueValidator(1, message=_("A target must be longer than zero."))
                )

    def clean(self) -> dict:
        cleaned = super().clean()
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


def ticket_version(ticket: Ticket) -> str:
    """Changes whenever anything writes the ticket (services, the sweep, the admin)."""
    return ticket.updated_at.isoformat() if ticket.updated_at else ""


class TicketAdminForm(forms.ModelForm):
    """Status, priority and assignee are applied through :mod:`tickets.services`
    by :meth:`tickets.admin.tickets.TicketAdmin.save_model`, exactly as in the agent
    workspace; the other fields describe the complaint and are saved as they are."""

    SERVICE_FIELDS = ("assignee", "priority", "status")
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

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
        contact = ("requester_email", "requester_phone")
        if all(name in cleaned for name in contact) and not any(cleaned[name] for name in contact):
            raise forms.ValidationError(
                _("Give a phone number or an email address so that we can reply."), code="contact_required"
            )
        return cleaned
