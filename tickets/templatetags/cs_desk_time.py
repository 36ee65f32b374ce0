"""``{{ value|instant }}``: an instant as the consumer reads it, in the site's
time zone with its UTC offset spelled out; a script in the page adds the
reader's own local time when their device is in another zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import get_language, gettext

from tickets.notifications import format_instant

register = template.Library()


@register.filter
def instant(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(settings.TIME_ZONE))
    offset_minutes = int(local.utcoffset().total_seconds() // 60)
    return format_html(
        '<time class="instant" datetime="{}" data-offset="{}">{}</time>',
        local.isoformat(),
        offset_minutes,
        format_instant(value, get_language() or settings.LANGUAGE_CODE),
    )


def duration_text(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext("%(d)dd %(h)dh") % {"d": days, "h": hours}
    return gettext("%(h)dh %(m)02dm") % {"h": hours, "m": minutes}


@register.simple_tag
def time_left(due: datetime | None, now: datetime) -> str:
    """``3h 05m`` left, or ``overdue 1h 10m``; the page's script keeps it counting."""
    if due is None:
        return "—"
    seconds = (due - now).total_seconds()
    if seconds < 0:
        return gettext("overdue %(time)s") % {"time": duration_text(seconds)}
    return duration_text(seconds)


@register.filter
def hours_minutes(value) -> str:
    """A timedelta as ``3h 05m`` (business or calendar time on the SLA panel)."""
    return duration_text(value.total_seconds()) if value is not None else "—"


@register.simple_tag
def live_socket(path: str) -> str:
    """The URL of the WebSocket ``path`` (e.g. /ws/desk/): on the ASGI server at
    LIVE_URL, or on the page's own origin when it is empty (a proxy routes it)."""
    return f"{settings.LIVE_URL}{path}"


@register.simple_tag
def countdown_formats() -> str:
    """The countdown's formats as ``data-`` attributes, for the page's script
    (one translation for the server's and the script's text)."""
    return format_html(
        'data-fmt-hm="{}" data-fmt-dh="{}" data-fmt-over="{}"',
        gettext("%(h)dh %(m)02dm"),
        gettext("%(d)dd %(h)dh"),
        gettext("overdue %(time)s"),
    )
