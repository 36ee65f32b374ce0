"""Form pieces every door's forms share (desk, merchant portal, reports,
feedback): the text field for what a person types, and ids read safely."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cs_desk.api import storable
from cs_desk.exceptions import ApplicationError

# The API's words for the same rule (cs_desk.api.StrictSerializer).
CANNOT_STORE = _("The text holds characters that cannot be stored (NUL, lone surrogates).")


class TextField(forms.CharField):
    """Text PostgreSQL can store: a NUL character or a lone surrogate is an error
    on the field, in the API's words. (Django's own message for a NUL reads, in
    its Chinese catalogue, as if the field had been left empty.) Too short or too
    long is said in plain words, with the count."""

    default_error_messages = {
        "invalid_characters": CANNOT_STORE,
        "null_characters_not_allowed": CANNOT_STORE,
        # Django's own read, in Chinese, "make sure this variable …": words for people instead.
        "min_length": _("Please write at least %(limit_value)d characters (you wrote %(show_value)d)."),
        "max_length": _("Please write at most %(limit_value)d characters (you wrote %(show_value)d)."),
    }

    def validate(self, value) -> None:
        super().validate(value)
        if not storable(value):
            raise ValidationError(self.error_messages["invalid_characters"], code="invalid_characters")


class IdsField(forms.Field):
    """Several ids under one name (the rows ticked in the queue): the whole
    numbers among them; anything else is left out, as an id no row has."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = (whole_number(v) for v in (value if isinstance(value, list | tuple) else []) if isinstance(v, str))
        return [pk for pk in ids if pk is not None]


def form_problems(form: forms.Form) -> list[str]:
    """An invalid form's errors as lines for a page that shows them at the top
    (the desk's messages): each after the label of its field."""
    problems = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name) if field is not None else ""
        problems += [f"{label}: {error}" if label else str(error) for error in errors]
    return problems


def whole_number(value: str) -> int | None:
    """``value`` as an id, if it is one: ASCII digits only (``"²".isdigit()`` is
    true, but ``int("²")`` fails), and small enough for a bigint."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def by_rule(rule, value):
    """``value`` checked by a rule of the domain (a function that returns the
    clean value or raises ApplicationError), its refusal as the field's error:
    forms show the same words the service would answer."""
    try:
        return rule(value)
    except ApplicationError as error:
        raise ValidationError(error.message, code=error.code) from error
