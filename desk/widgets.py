"""Form widgets of the desk."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

_SELECTED = mark_safe(" selected")


class QuickSelect(forms.Select):
    """A ``<select>`` rendered in Python. Django's template-based widget renders
    one template per ``<option>``: on the queue's filter bar (about a hundred
    options) that was a third of the page's server time. Same HTML, escaped the
    same way."""

    def render(self, name, value, attrs=None, renderer=None):
        values = value if isinstance(value, list | tuple) else [value]
        selected = {"" if v is None else str(v) for v in values}
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, _SELECTED if key in selected else "", label)
                for key, label in (("" if v is None else str(v), label) for v, label in self.choices)
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


def quick_selects(form: forms.Form) -> None:
    """Render every single-choice ``<select>`` of ``form`` with QuickSelect."""
    for field in form.fields.values():
        widget = field.widget
        if type(widget) in (forms.Select, forms.NullBooleanSelect):
            quick = QuickSelect(attrs=widget.attrs)
            quick.choices = getattr(field, "choices", widget.choices)
            if isinstance(widget, forms.NullBooleanSelect):
                quick.choices = widget.choices
            field.widget = quick
