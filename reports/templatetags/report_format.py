"""Formats for report figures: hours, and a colour class for compliance (a
percentage is merchant_format's ``percent``)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def hours(seconds) -> str:
    """Seconds as hours with one decimal (``12.5 h``); a dash when there is nothing."""
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h"


@register.filter
def compliance_class(value) -> str:
    """``good`` from 95 %, ``fair`` from 80 %, ``poor`` below."""
    if value is None:
        return ""
    return "good" if value >= 95 else "fair" if value >= 80 else "poor"
