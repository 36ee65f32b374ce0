"""``{% queue_rows rows now can_work prefix %}``: the queue's rows.

Rendered in Python rather than with template tags: with fifty rows of a dozen
cells each, Django's template engine took more server time than everything
else on the queue page (bench/queue.py). Every value goes through
``format_html``, so it is escaped exactly as the template would escape it."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from tickets.models import Ticket
from tickets.templatetags.cs_desk_time import time_left

register = template.Library()

_ROW = (
    '<tr data-href="{href}" data-claim="{href}claim/" data-id="{pk}" class="{classes}">{pick}'
    '<td class="ref"><a href="{href}">{reference}</a></td>'
    '<td class="subject">{flag}{subject}</td><td>{category}</td>'
    '<td><span class="prio prio-{priority}">{priority_label}</span></td><td>{status}</td>'
    "<td>{merchant}</td><td>{assignee}</td><td>{channel}</td>"
    '<td class="left"><span class="countdown" data-due="{due}" data-warn="{warn}" data-overdue="{overdue}">'
    "{left}</span></td>"
    '<td class="esc">{level}</td></tr>\n'
)


def _iso(value) -> str:
    return timezone.localtime(value).isoformat() if value else ""


@register.simple_tag
def queue_rows(rows: list[Ticket], now, can_work: bool, prefix: str) -> str:
    if not rows:
        return format_html(
            '<tr><td colspan="11" class="empty">{}</td></tr>', gettext("Nothing here: no open ticket matches.")
        )
    priorities = {value: str(label) for value, label in Ticket.Priority.choices}
    statuses = {value: str(label) for value, label in Ticket.Status.choices}
    channels = {value: str(label) for value, label in Ticket.Channel.choices}
    flag = format_html('<span class="flag" title="{}">⚑</span> ', gettext("Keyword alert"))
    select = gettext("Select")
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    _ROW,
                    href=f"{prefix}{t.pk}/",
                    pk=t.pk,
                    classes=("overdue" if t.is_overdue else "") + (" flagged" if t.is_flagged else ""),
                    pick=format_html(
                        '<td class="pick"><input type="checkbox" name="ticket" value="{}" form="bulk" '
                        'aria-label="{} {}"></td>',
                        t.pk,
                        select,
                        t.reference,
                    )
                    if can_work
                    else mark_safe(""),
                    reference=t.reference,
                    flag=flag if t.is_flagged else "",
                    subject=t.subject,
                    category=t.category.name,
                    priority=t.priority,
                    priority_label=priorities.get(t.priority, t.priority),
                    status=statuses.get(t.status, t.status),
                    merchant=t.merchant.name if t.merchant_id else "—",
                    assignee=t.assignee.get_username() if t.assignee_id else "—",
                    channel=channels.get(t.channel, t.channel),
                    due=_iso(t.due_at),
                    warn=_iso(getattr(t, "warn_at", None)),
                    overdue="1" if t.is_overdue else "0",
                    left=time_left(t.due_at, now),
                    level=format_html('<span class="level">L{}</span>', t.escalation_level)
                    if t.escalation_level
                    else "",
                ),
            )
            for t in rows
        ),
    )
