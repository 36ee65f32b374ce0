"""Server-rendered SVG charts for the managers' reports: no script, no CDN, and
they print as they show. Every mark carries a <title> with its exact figure.

* ``{% trend_chart trend %}``: tickets per day (bars) and compliance (line);
* ``{% heatmap grid %}``: complaints by weekday and hour;
* ``{% bar_chart rows %}``: horizontal bars, rows of (label, value);
* ``{% rating_bar distribution %}``: one stacked bar of ratings 1 to 5.
"""

from __future__ import annotations

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

register = template.Library()

WEEKDAYS_SHORT = (
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
)


def _nice_top(value: float) -> int:
    """A round axis maximum at or above ``value``, divisible by 4 so that the
    quarter gridlines fall on whole numbers."""
    magnitude = 1
    while True:
        for step in (4, 8, 12, 20, 40, 60, 80):
            if value <= step * magnitude:
                return step * magnitude
        magnitude *= 10


def _svg(width: int, height: int, label: str, body, caption="") -> str:
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>{}</figure>',
        width,
        height,
        label,
        body,
        caption,
    )


@register.simple_tag
def trend_chart(trend) -> str:
    days = list(trend)
    if not days:
        return ""
    width, height = 720, 220
    left, right, top, bottom = 40, 40, 14, 30
    span_x, span_y = width - left - right, height - top - bottom
    top_tickets = _nice_top(max(d.tickets for d in days))
    step = span_x / len(days)

    def y_count(n: float) -> float:
        return top + span_y * (1 - n / top_tickets)

    def y_percent(p: float) -> float:
        return top + span_y * (1 - p / 100)

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
        '<text x="{}" y="{}" class="axis">{}</text><text x="{}" y="{}" class="axis start">{}%</text>',
        (
            (
                left,
                width - right,
                f"{y_percent(100 * f):.1f}",
                f"{y_percent(100 * f):.1f}",
                left - 4,
                f"{y_percent(100 * f) + 3:.1f}",
                round(top_tickets * f),
                width - right + 4,
                f"{y_percent(100 * f) + 3:.1f}",
                round(100 * f),
            )
            for f in (0, 0.25, 0.5, 0.75, 1)
        ),
    )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>{}: {}</title></rect>',
        (
            (
                f"{left + i * step + step * 0.15:.1f}",
                f"{y_count(d.tickets):.1f}",
                f"{step * 0.7:.1f}",
                f"{span_y * d.tickets / top_tickets:.1f}",
                date_format(d.day, "SHORT_DATE_FORMAT"),
                gettext("%(n)s tickets") % {"n": d.tickets},
            )
            for i, d in enumerate(days)
        ),
    )
    # The compliance line, broken over days with nothing decided.
    segments, current = [], []
    for i, d in enumerate(days):
        if d.compliance is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{left + (i + 0.5) * step:.1f},{y_percent(d.compliance):.1f}")
    if current:
        segments.append(current)
    lines = format_html_join("", '<polyline points="{}" class="compliance"/>', ((" ".join(s),) for s in segments))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" class="compliance"><title>{}: {}%</title></circle>',
        (
            (
                f"{left + (i + 0.5) * step:.1f}",
                f"{y_percent(d.compliance):.1f}",
                date_format(d.day, "SHORT_DATE_FORMAT"),
                d.compliance,
            )
            for i, d in enumerate(days)
            if d.compliance is not None
        ),
    )
    every = max(1, len(days) // 8)
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis middle">{}</text>',
        (
            (f"{left + (i + 0.5) * step:.1f}", height - 10, date_format(d.day, "m-d"))
            for i, d in enumerate(days)
            if i % every == 0
        ),
    )
    caption = format_html(
        '<figcaption><span class="key bar">{}</span> <span class="key compliance">{}</span></figcaption>',
        gettext("Tickets created (left axis)"),
        gettext("Compliance % (right axis)"),
    )
    label = gettext("Tickets per day and compliance, %(first)s – %(last)s") % {
        "first": date_format(days[0].day, "SHORT_DATE_FORMAT"),
        "last": date_format(days[-1].day, "SHORT_DATE_FORMAT"),
    }
    return _svg(width, height, label, format_html("{}{}{}{}{}", grid, bars, lines, dots, ticks), caption)


@register.simple_tag
def heatmap(grid, decimals: int = 0) -> str:
    """Weekday rows × 24 hour columns, darker for more complaints."""
    cell_w, cell_h, left, top = 28, 24, 44, 18
    width, height = left + 24 * cell_w + 4, top + 7 * cell_h + 4
    peak = max((v for row in grid for v in row), default=0) or 1
    cells = []
    for d, row in enumerate(grid):
        for h, value in enumerate(row):
            level = value / peak
            text = f"{value:.{decimals}f}" if value else ""
            cells.append(
                (
                    left + h * cell_w,
                    top + d * cell_h,
                    cell_w - 2,
                    cell_h - 2,
                    f"{0.06 + 0.94 * level:.2f}",
                    f"{WEEKDAYS_SHORT[d]} {h:02d}:00–{h:02d}:59: {text or 0}",
                    left + h * cell_w + (cell_w - 2) / 2,
                    top + d * cell_h + cell_h / 2 + 2,
                    "light" if level > 0.55 else "",
                    text,
                )
            )
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" rx="2" class="cell" fill-opacity="{}"><title>{}</title></rect>'
        '<text x="{}" y="{}" class="count {}">{}</text>',
        cells,
    )
    rows = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis">{}</text>',
        ((left - 6, top + d * cell_h + cell_h / 2 + 3, WEEKDAYS_SHORT[d]) for d in range(7)),
    )
    hours = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis middle">{}</text>',
        ((left + h * cell_w + cell_w / 2, top - 6, f"{h:02d}") for h in range(0, 24, 2)),
    )
    return _svg(width, height, gettext("Complaints by hour of the week"), format_html("{}{}{}", rows, hours, body))


@register.simple_tag
def bar_chart(rows, unit: str = "") -> str:
    """Horizontal bars, one per (label, value) row."""
    rows = list(rows)
    if not rows:
        return ""
    width, bar_h, left = 520, 22, 120
    height = len(rows) * bar_h + 8
    top_value = _nice_top(max(v for _label, v in rows) or 1)
    span = width - left - 60
    bars = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>{}: {}{}</title></rect>'
        '<text x="{}" y="{}" class="axis start">{}{}</text>',
        (
            (
                left - 6,
                i * bar_h + bar_h / 2 + 6,
                label,
                left,
                i * bar_h + 4,
                f"{span * value / top_value:.1f}",
                bar_h - 6,
                label,
                value,
                unit,
                f"{left + span * value / top_value + 4:.1f}",
                i * bar_h + bar_h / 2 + 6,
                value,
                unit,
            )
            for i, (label, value) in enumerate(rows)
        ),
    )
    return _svg(width, height, gettext("Bar chart"), bars)


@register.simple_tag
def rating_bar(distribution) -> str:
    """The answers rating 1 … 5 as one stacked bar (red to green)."""
    total = sum(distribution)
    width, height = 160, 14
    if not total:
        return ""
    x = 0.0
    parts = []
    for rating, n in enumerate(distribution, start=1):
        w = width * n / total
        if n:
            parts.append(
                (f"{x:.1f}", f"{w:.1f}", height, rating, gettext("%(n)s × %(stars)s★") % {"n": n, "stars": rating})
            )
        x += w
    body = format_html_join("", '<rect x="{}" y="0" width="{}" height="{}" class="r{}"><title>{}</title></rect>', parts)
    return format_html(
        '<svg class="rating-bar" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        width,
        height,
        width,
        height,
        gettext("Ratings 1 to 5"),
        body,
    )
