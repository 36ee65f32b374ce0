"""The festivals of China's official working-day schedule, as stable codes.

Stored on calendar days (never the package's English names) and rendered in
the reader's language by ``tickets.models.CalendarDay.Festival``. Pure: the
statutory computation (``tickets.sla.statutory``) and the seeding from
``chinesecalendar`` (``tickets.china``) both speak these codes.
"""

from __future__ import annotations

import enum


class Festival(enum.StrEnum):
    NEW_YEAR = "new_year"  # 元旦
    SPRING_FESTIVAL = "spring_festival"  # 春节
    TOMB_SWEEPING = "tomb_sweeping"  # 清明节
    LABOUR_DAY = "labour_day"  # 劳动节
    DRAGON_BOAT = "dragon_boat"  # 端午节
    MID_AUTUMN = "mid_autumn"  # 中秋节
    NATIONAL_DAY = "national_day"  # 国庆节
    ANTI_FASCIST_70TH = "anti_fascist_70th"  # 2015-09-03, a one-off


# chinesecalendar's holiday names (its ``Holiday`` enum values) to our codes.
PACKAGE_NAMES = {
    "New Year's Day": Festival.NEW_YEAR,
    "Spring Festival": Festival.SPRING_FESTIVAL,
    "Tomb-sweeping Day": Festival.TOMB_SWEEPING,
    "Labour Day": Festival.LABOUR_DAY,
    "Dragon Boat Festival": Festival.DRAGON_BOAT,
    "Mid-autumn Festival": Festival.MID_AUTUMN,
    "National Day": Festival.NATIONAL_DAY,
    "Anti-Fascist 70th Day": Festival.ANTI_FASCIST_70TH,
}
