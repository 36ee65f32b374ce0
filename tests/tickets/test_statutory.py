"""China's statutory days off computed from the law (tickets.sla.statutory), the
fallback for a year without the official schedule.

Held against chinesecalendar's official data for the years it knows, worked by
hand for 2027 and 2028 (the first years it does not know), and checked for every
year to 2099 for the shape the law gives a year. Pure: no database.
"""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from chinese_calendar import constants
from lunar_python import Solar

from tickets.sla.festivals import PACKAGE_NAMES, Festival
from tickets.sla.statutory import days_in_lieu, festival_days, statutory_days

F = Festival


def official_name(day: date) -> Festival | None:
    name = constants.holidays.get(day)
    return None if name is None else PACKAGE_NAMES[getattr(name, "value", name)]


def weekday_days_off(year: int) -> int:
    """The weekdays of ``year`` off under the law: the festivals' days and 补假."""
    return sum(1 for day in statutory_days(year) if day.weekday() < 5)


# --- (a) against the official schedule -----------------------------------------------


@pytest.mark.parametrize("year", range(2015, 2027))
def test_every_statutory_day_is_an_official_holiday_of_its_festival(year):
    by_day: dict[date, set[Festival]] = {}
    for festival, days in festival_days(year).items():
        for day in days:
            by_day.setdefault(day, set()).add(festival)

    # A day two festivals share (Mid-Autumn on National Day, 2020-10-01) is named
    # after one of them in the official data.
    wrong = {day: (festivals, official_name(day)) for day, festivals in by_day.items()}
    wrong = {day: pair for day, pair in wrong.items() if pair[1] not in pair[0]}
    assert wrong == {}


@pytest.mark.parametrize("year", [y for y in range(2015, 2027) if y != 2020])
def test_the_law_gives_as_many_weekdays_off_as_the_official_schedule_net_of_make_up_days(year):
    # The State Council moves days around (调休) but, by the law, not how many
    # weekdays a year is off: its weekday holidays less its make-up working days
    # equal ours. Not 2020: the Spring Festival was extended by two working days
    # (30–31 January) against COVID-19. 2015 has one more than the law: the one-off
    # Victory Day holiday, Thu 3 and Fri 4 September, the 4th made up on Sun 6 September.
    official = sum(1 for day in constants.holidays if day.year == year and day.weekday() < 5)
    official -= sum(1 for day in constants.workdays if day.year == year)
    assert weekday_days_off(year) == official - (1 if year == 2015 else 0)


def test_a_weekend_holiday_given_back_matches_the_official_schedule():
    # New Year's Day 2022 was a Saturday: the law gives back Monday 3 January, and
    # the official schedule had it off. Labour Day 2021 was a Saturday: Monday 3 May.
    assert days_in_lieu(2022)[date(2022, 1, 3)] == F.NEW_YEAR
    assert official_name(date(2022, 1, 3)) == F.NEW_YEAR
    assert days_in_lieu(2021)[date(2021, 5, 3)] == F.LABOUR_DAY
    assert official_name(date(2021, 5, 3)) == F.LABOUR_DAY


# --- (b) worked by hand --------------------------------------------------------------


def test_2027_worked_by_hand():
    # The dates, and how they were checked against more than the library's lunar → solar
    # conversion:
    # * Spring Festival: lunar 1/1 = Sat 6 Feb 2027. The new moon falls at 23:56 Beijing
    #   time on 6 Feb (15:56 UTC), the day of the annular solar eclipse of 6 February 2027
    #   (an eclipse of the sun happens only at new moon). The twelfth month of 2026 has 29
    #   days, so 除夕 is 12/29 = Fri 5 Feb.
    # * Qingming: the solar term at 08:17 on Mon 5 Apr; 清明 comes 15 days after the March
    #   equinox (Sun 21 Mar 2027, 04:25 Beijing time) and always on 4–6 April.
    # * Dragon Boat: lunar 5/5 = Wed 9 Jun. 2027 has no leap month; the fifth month begins
    #   at the new moon of Sat 5 Jun, four lunar months (118 days) after 6 Feb.
    # * Mid-Autumn: lunar 8/15 = Wed 15 Sep. The seventh month begins Mon 2 Aug 2027, the
    #   day of the total solar eclipse of 2 August 2027 (a new moon); the eighth 30 days
    #   later on Wed 1 Sep, and its 15th is 15 Sep.
    assert festival_days(2027) == {
        F.NEW_YEAR: (date(2027, 1, 1),),  # Fri
        F.SPRING_FESTIVAL: (date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)),  # Fri–Mon
        F.TOMB_SWEEPING: (date(2027, 4, 5),),  # Mon
        F.LABOUR_DAY: (date(2027, 5, 1), date(2027, 5, 2)),  # Sat, Sun
        F.DRAGON_BOAT: (date(2027, 6, 9),),  # Wed
        F.MID_AUTUMN: (date(2027, 9, 15),),  # Wed
        F.NATIONAL_DAY: (date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)),  # Fri–Sun
    }
    # 补假: Spring Festival Sat 6, Sun 7 Feb → after Mon 8: Tue 9, Wed 10 Feb. Labour Day
    # Sat 1, Sun 2 May → Mon 3, Tue 4 May. National Day Sat 2, Sun 3 Oct → Mon 4, Tue 5 Oct.
    # New Year's Day is a Friday: nothing given back.
    assert days_in_lieu(2027) == {
        date(2027, 2, 9): F.SPRING_FESTIVAL,
        date(2027, 2, 10): F.SPRING_FESTIVAL,
        date(2027, 5, 3): F.LABOUR_DAY,
        date(2027, 5, 4): F.LABOUR_DAY,
        date(2027, 10, 4): F.NATIONAL_DAY,
        date(2027, 10, 5): F.NATIONAL_DAY,
    }
    assert len(statutory_days(2027)) == 13 + 6
    assert statutory_days(2027)[date(2027, 2, 10)] == F.SPRING_FESTIVAL


def test_2027_dates_read_back_in_the_lunar_calendar():
    # The other direction of the library: solar → lunar.
    def lunar(day: date) -> tuple[int, int]:
        value = Solar.fromYmd(day.year, day.month, day.day).getLunar()
        return value.getMonth(), value.getDay()

    assert lunar(date(2027, 2, 5)) == (12, 29)  # 除夕: the twelfth month has 29 days
    assert lunar(date(2027, 2, 6)) == (1, 1)
    assert lunar(date(2027, 6, 9)) == (5, 5)
    assert lunar(date(2027, 9, 15)) == (8, 15)
    assert Solar.fromYmd(2027, 4, 5).getLunar().getJieQi() == "清明"


def test_2028_a_weekend_holiday_gives_back_a_monday_and_mid_autumn_shares_national_day():
    # New Year's Day 2028 is a Saturday → Mon 3 Jan. Dragon Boat (lunar 5/5) is Sun 28 May
    # → Mon 29 May. Mid-Autumn (lunar 8/15; 2028 has a leap fifth month) is Tue 3 Oct, a
    # day of National Day: National Day Sun 1 Oct → first free weekday after Tue 3: Wed 4;
    # Mid-Autumn's day, already off, → Thu 5 Oct. Spring Festival 2028 (lunar 1/1 Wed 26
    # Jan): Tue 25–Fri 28 Jan, all weekdays; Labour Day Mon 1–Tue 2 May; Qingming Tue 4 Apr.
    assert festival_days(2028)[F.SPRING_FESTIVAL] == (
        date(2028, 1, 25),
        date(2028, 1, 26),
        date(2028, 1, 27),
        date(2028, 1, 28),
    )
    assert festival_days(2028)[F.MID_AUTUMN] == (date(2028, 10, 3),)
    assert days_in_lieu(2028) == {
        date(2028, 1, 3): F.NEW_YEAR,
        date(2028, 5, 29): F.DRAGON_BOAT,
        date(2028, 10, 4): F.NATIONAL_DAY,
        date(2028, 10, 5): F.MID_AUTUMN,
    }
    assert date(2028, 1, 3).weekday() == date(2028, 5, 29).weekday() == 0  # Mondays


@pytest.mark.parametrize(
    ("year", "spring_festival", "labour_day", "lunar_festivals"),
    [
        # 2008–2013: 除夕, 1/1 and 1/2; Labour Day 1 May. 2010's lunar new year: Sun 14 Feb.
        (2010, (date(2010, 2, 13), date(2010, 2, 14), date(2010, 2, 15)), (date(2010, 5, 1),), True),
        # 2014–2024: 1/1–1/3. 2019's lunar new year: Tue 5 Feb.
        (2019, (date(2019, 2, 5), date(2019, 2, 6), date(2019, 2, 7)), (date(2019, 5, 1),), True),
        # before 2008 (1999): 1/1–1/3, Labour Day 1–3 May, no lunar festival but the new year.
        (
            2005,
            (date(2005, 2, 9), date(2005, 2, 10), date(2005, 2, 11)),
            (date(2005, 5, 1), date(2005, 5, 2), date(2005, 5, 3)),
            False,
        ),
    ],
    ids=["2007-revision", "2013-revision", "1999-revision"],
)
def test_each_revision_of_the_law(year, spring_festival, labour_day, lunar_festivals):
    days = festival_days(year)
    assert days[F.SPRING_FESTIVAL] == spring_festival
    assert days[F.LABOUR_DAY] == labour_day
    assert days[F.NATIONAL_DAY] == (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3))
    assert ({F.TOMB_SWEEPING, F.DRAGON_BOAT, F.MID_AUTUMN} <= days.keys()) is lunar_festivals


def test_a_year_before_the_modelled_law_is_refused():
    with pytest.raises(ValueError, match="before 2000"):
        festival_days(1999)


# --- (c) every year to 2099 ----------------------------------------------------------


def test_every_year_to_2099_has_the_shape_the_law_gives_it():
    for year in range(2027, 2100):
        by_festival = festival_days(year)
        # 1 + 4 + 1 + 2 + 1 + 1 + 3, in date order, all in the year.
        assert {festival: len(days) for festival, days in by_festival.items()} == {
            F.NEW_YEAR: 1,
            F.SPRING_FESTIVAL: 4,
            F.TOMB_SWEEPING: 1,
            F.LABOUR_DAY: 2,
            F.DRAGON_BOAT: 1,
            F.MID_AUTUMN: 1,
            F.NATIONAL_DAY: 3,
        }, year
        entitlements = [day for days in by_festival.values() for day in days]
        assert all(day.year == year for day in entitlements), year
        assert all(b - a == timedelta(days=1) for days in by_festival.values() for a, b in pairwise(days)), year
        # One day given back per festival day on a weekend, and one per day two festivals
        # share on a weekday (that day is off once, owed twice).
        on_weekends = sum(1 for day in entitlements if day.weekday() >= 5)
        shared_weekdays = sum(1 for day in set(entitlements) if entitlements.count(day) == 2 and day.weekday() < 5)
        given = days_in_lieu(year)
        assert len(given) == on_weekends + shared_weekdays, year
        # Each given back on a weekday, after its festival, on no festival's day.
        assert all(day.weekday() < 5 and day not in entitlements for day in given), year
        assert all(day > by_festival[festival][-1] for day, festival in given.items()), year
        assert len(statutory_days(year)) == len(set(entitlements)) + len(given), year
