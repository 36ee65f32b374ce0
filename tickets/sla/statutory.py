"""China's statutory days off of a year, by the law in force that year. Pure.

The fallback for a year whose official schedule (the State Council's yearly
notice, which ``chinesecalendar`` carries) is not loaded: the days the law
itself fixes (全国年节及纪念日放假办法, article 2), computed from the lunar
calendar, and the days given back for those that fall on a weekend (补假,
article 6). What the law does not fix, the yearly notice's make-up working days
(调休) and the weekends it moves, cannot be computed: a calendar built from this
is provisional.

The law, by year:

* from 2025 (2024 revision): New Year's Day 1 (1 Jan); Spring Festival 4 (除夕,
  the day before lunar 1/1, and lunar 1/1–1/3); Qingming 1 (the day of the solar
  term); Labour Day 2 (1–2 May); Dragon Boat 1 (lunar 5/5); Mid-Autumn 1 (lunar
  8/15); National Day 3 (1–3 Oct);
* 2014–2024 (2013 revision): Spring Festival 3 (lunar 1/1–1/3), Labour Day 1;
* 2008–2013 (2007 revision): Spring Festival 3 (除夕, lunar 1/1 and 1/2), Labour Day 1;
* 2000–2007 (1999 revision): New Year's Day 1, Spring Festival 3 (lunar 1/1–1/3),
  Labour Day 3 (1–3 May), National Day 3; no Qingming, Dragon Boat or Mid-Autumn.

Dates are Beijing dates: the Chinese calendar is reckoned in UTC+8, and so is
``lunar_python``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

from lunar_python import Lunar

from tickets.sla.festivals import Festival

FIRST_YEAR = 2000  # the first whole year of the 1999 revision; earlier law is not modelled
ONE_DAY = timedelta(days=1)


def _solar(lunar: Lunar) -> date:
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def festival_days(year: int) -> Mapping[Festival, tuple[date, ...]]:
    """The days off the law grants in ``year``, by festival, in date order, without
    the days given back (补假). Two festivals may share a day (Mid-Autumn on
    1 October in 2020): each lists it.

    Raises ``ValueError`` for a year before :data:`FIRST_YEAR`.
    """
    if year < FIRST_YEAR:
        raise ValueError(f"The statutory holidays before {FIRST_YEAR} are not modelled (asked for {year}).")
    new_year = Lunar.fromYmd(year, 1, 1)
    spring = _solar(new_year)
    eve = spring - ONE_DAY  # 除夕: the last day of the twelfth month, 29th or 30th
    if year >= 2025:
        spring_festival = (eve, spring, spring + ONE_DAY, spring + 2 * ONE_DAY)
        labour_day = (date(year, 5, 1), date(year, 5, 2))
    elif year >= 2014:
        spring_festival = (spring, spring + ONE_DAY, spring + 2 * ONE_DAY)
        labour_day = (date(year, 5, 1),)
    elif year >= 2008:
        spring_festival = (eve, spring, spring + ONE_DAY)
        labour_day = (date(year, 5, 1),)
    else:
        spring_festival = (spring, spring + ONE_DAY, spring + 2 * ONE_DAY)
        labour_day = (date(year, 5, 1), date(year, 5, 2), date(year, 5, 3))
    days = {
        Festival.NEW_YEAR: (date(year, 1, 1),),
        Festival.SPRING_FESTIVAL: spring_festival,
        Festival.LABOUR_DAY: labour_day,
        Festival.NATIONAL_DAY: (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)),
    }
    if year >= 2008:
        # The lunar new year's table of solar terms runs from the previous December's
        # 大雪 to the next year's; its 清明 is this April's.
        qingming = new_year.getJieQiTable()["清明"]
        days[Festival.TOMB_SWEEPING] = (date(qingming.getYear(), qingming.getMonth(), qingming.getDay()),)
        days[Festival.DRAGON_BOAT] = (_solar(Lunar.fromYmd(year, 5, 5)),)  # the 5th month, never a leap one
        days[Festival.MID_AUTUMN] = (_solar(Lunar.fromYmd(year, 8, 15)),)
    return MappingProxyType(dict(sorted(days.items(), key=lambda item: item[1][0])))


@lru_cache(maxsize=256)
def days_in_lieu(year: int) -> Mapping[date, Festival]:
    """The days given back in ``year`` (补假), each with the festival it makes up for.

    Article 6: a festival day that falls on a Saturday or a Sunday is given back on
    a working day after the festival. For each such day, in date order, the first
    Monday–Friday after the festival's last day that is neither a statutory day nor
    already given back. A day two festivals share is owed twice: on a weekday it is
    off once and given back once, for the second festival; on a weekend it is given
    back twice. The year keeps every day the law grants, as the official schedules
    of 2009 (Mid-Autumn on Sat 3 October) and 2020 (on Thu 1 October) did.
    """
    by_festival = festival_days(year)
    statutory = {day for days in by_festival.values() for day in days}
    given: dict[date, Festival] = {}
    seen: set[date] = set()
    for festival, days in by_festival.items():
        for day in days:
            owed = day.weekday() >= 5 or day in seen
            seen.add(day)
            if not owed:
                continue
            candidate = days[-1] + ONE_DAY
            while candidate.weekday() >= 5 or candidate in statutory or candidate in given:
                candidate += ONE_DAY
            given[candidate] = festival
    return MappingProxyType(dict(sorted(given.items())))


@lru_cache(maxsize=256)
def statutory_days(year: int) -> Mapping[date, Festival]:
    """Every day off the law gives in ``year``: the festivals' days and the days given
    back for them (补假), in date order. A day two festivals share carries the
    first; a day given back carries the festival it makes up for."""
    off: dict[date, Festival] = {}
    for festival, days in festival_days(year).items():
        for day in days:
            off.setdefault(day, festival)
    off.update(days_in_lieu(year))
    return MappingProxyType(dict(sorted(off.items())))
