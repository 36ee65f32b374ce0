"""``{% score_chart trend %}``: a merchant's daily score and reply rate as a
small server-rendered SVG line chart (no script, prints as it shows)."""

from __future__ import annotations

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

register = template.Library()

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 12, 28


def _x(i: int, n: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * i / (n - 1) if n > 1 else span / 2)


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / 100)


@register.simple_tag
def score_chart(trend) -> str:
    points = list(trend)
    if not points:
        return format_html('<p class="meta">{}</p>', gettext("No daily score has been computed yet."))
    n = len(points)
    score = " ".join(f"{_x(i, n):.1f},{_y(float(p.score)):.1f}" for i, p in enumerate(points))
    rate = " ".join(
        f"{_x(i, n):.1f},{_y(float(p.reply_rate)):.1f}" for i, p in enumerate(points) if p.reply_rate is not None
    )
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/><text x="{}" y="{}" class="axis">{}</text>',
        ((LEFT, WIDTH - RIGHT, _y(v), _y(v), LEFT - 6, _y(v) + 4, v) for v in (0, 25, 50, 75, 100)),
    )
    first, last = points[0].day, points[-1].day
    labels = format_html(
        '<text x="{}" y="{}" class="axis start">{}</text><text x="{}" y="{}" class="axis end">{}</text>',
        LEFT,
        HEIGHT - 8,
        date_format(first, "SHORT_DATE_FORMAT"),
        WIDTH - RIGHT,
        HEIGHT - 8,
        date_format(last, "SHORT_DATE_FORMAT"),
    )
    title = gettext("Score and reply rate, %(first)s – %(last)s") % {
        "first": date_format(first, "SHORT_DATE_FORMAT"),
        "last": date_format(last, "SHORT_DATE_FORMAT"),
    }
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" class="score"><title>{} · {}</title></circle>',
        (
            (f"{_x(i, n):.1f}", f"{_y(float(p.score)):.1f}", date_format(p.day, "SHORT_DATE_FORMAT"), p.score)
            for i, p in enumerate(points)
        ),
    )
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {w} {h}" role="img" aria-label="{title}" '
        'xmlns="http://www.w3.org/2000/svg">{grid}{labels}'
        '<polyline points="{rate}" class="rate"/><polyline points="{score}" class="score"/>{dots}</svg>'
        '<figcaption><span class="key score">{score_label}</span> '
        '<span class="key rate">{rate_label}</span></figcaption></figure>',
        w=WIDTH,
        h=HEIGHT,
        title=title,
        grid=grid,
        labels=labels,
        rate=rate,
        score=score,
        dots=dots,
        score_label=gettext("Score"),
        rate_label=gettext("Reply rate %"),
    )
