"""``{{ value|instant }}``: an instant as the consumer reads it, in the site's
time zone with its UTC offset spelled out; a script in the page adds the
reader's own local time when their device is in another zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import get_language

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
