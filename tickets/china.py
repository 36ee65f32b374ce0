"""Seeding China's official working-day schedule from ``chinesecalendar``.

The package lists statutory holidays and the make-up working days (调休) that
go with them, for the years it knows. Seeding is idempotent: official rows are
replaced, days an administrator entered by hand are left alone. A day stores
its festival as a code (``tickets.sla.festivals``), never the package's English
name, so that it reads in the reader's language.
"""

from __future__ import annotations

import secrets

from chinese_calendar import constants

from tickets.sla.festivals import PACKAGE_NAMES

DEFAULT_CALENDAR_NAME = "中国大陆工作日"


def official_years() -> list[int]:
    return sorted({day.year for day in constants.holidays} | {day.year for day in constants.workdays})


def _festival_and_name(package_name, *, has_festival: bool) -> dict[str, str]:
    """The day's ``festival`` code and ``name``. A festival the package knows and
    we do not yet (a newer chinesecalendar) keeps the package's name rather than
    fail the seeding; so does a model from before the festival field (the data
    migration 0002 runs with it, and 0014 converts its names)."""
    name = str(getattr(package_name, "value", None) or package_name or "")
    festival = PACKAGE_NAMES.get(name)
    if has_festival and festival is not None:
        return {"festival": festival.value, "name": ""}
    return {"name": name[:100]}


def china_calendar_seed(*, calendar, day_model, years: list[int] | None = None) -> dict[str, int]:
    """Load the official schedule into ``calendar``. ``day_model`` is passed in so
    that data migrations can use their historical model."""
    known = official_years()
    years = sorted(set(years or known) & set(known))
    has_festival = any(field.name == "festival" for field in day_model._meta.get_fields())
    admin_dates = set(
        day_model.objects.filter(calendar=calendar, source="admin", date__year__in=years).values_list("date", flat=True)
    )
    day_model.objects.filter(calendar=calendar, source="official", date__year__in=years).delete()
    rows = []
    for table, kind in ((constants.holidays, "holiday"), (constants.workdays, "workday")):
        for day, package_name in table.items():
            if day.year in years and day not in admin_dates:
                rows.append(
                    day_model(
                        calendar=calendar,
                        date=day,
                        kind=kind,
                        source="official",
                        **_festival_and_name(package_name, has_festival=has_festival),
                    )
                )
    day_model.objects.bulk_create(rows)
    calendar.official_years = sorted(set(calendar.official_years) | set(years))
    calendar.version = secrets.randbelow(2**31 - 2) + 1  # see tickets.calendars.new_version
    calendar.save(update_fields=["official_years", "version"])
    return {
        "years": len(years),
        "holidays": sum(1 for r in rows if r.kind == "holiday"),
        "workdays": sum(1 for r in rows if r.kind == "workday"),
    }
