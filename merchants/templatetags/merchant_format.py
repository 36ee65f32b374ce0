"""Small formats for merchant figures: a percentage and a duration in seconds."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from tickets.templatetags.cs_desk_time import duration_text

register = template.Library()


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def duration_s(seconds) -> str:
    """Seconds as ``3h 05m`` / ``2d 4h``; a dash when there is nothing to show."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return gettext("under a minute")
    return duration_text(seconds)
