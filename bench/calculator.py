"""Speed of the pure calculator: a 15-working-day target (135 h) from Sun
2026-09-20 09:00 (a make-up working day) across Mid-Autumn and National Day, on
China's official calendar built from chinesecalendar (no database needed).

    .venv/bin/python bench/calculator.py [--calls 10000]
    .venv/bin/python bench/calculator.py --smoke     # 200 calls: does it still run?

Each call is timed on its own; the figures are medians in microseconds. "warm"
reuses one calendar, as a process does (its per-day periods are cached); "cold"
builds a fresh calendar for every call (the first deadline after a calendar edit).
Last line: one JSON object.
"""

import sys
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, where its name
# would shadow the standard library's calendar module: put the project root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from datetime import time as clock_time  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from chinese_calendar import constants  # noqa: E402

from tickets.sla.calendar import WorkingCalendar, deadline, elapsed  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 20, 9, tzinfo=SHANGHAI)
TARGET = timedelta(hours=15 * 9)
# Sun 9/20 9 h; Mon 9/21–Thu 9/24 36 (45); Fri 9/25–Sun 9/27 off; Mon 9/28–Wed 9/30 27 (72);
# Thu 10/1–Wed 10/7 off; Thu 10/8–Sat 10/10 27 (99); Sun off; Mon 10/12–Thu 10/15 36 (135).
EXPECTED = datetime(2026, 10, 15, 18, tzinfo=SHANGHAI)


def china() -> WorkingCalendar:
    years = {day.year for day in constants.holidays} | {day.year for day in constants.workdays}
    return WorkingCalendar(
        tz=SHANGHAI,
        periods=((clock_time(9), clock_time(18)),),
        holidays=frozenset(constants.holidays),
        workdays=frozenset(constants.workdays),
        official_years=frozenset(years),
    )


def median_us(fn: Callable[[], object], calls: int) -> float:
    timings = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        began = clock()
        fn()
        timings.append(clock() - began)
    return round(statistics.median(timings) / 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, help="timed calls per figure (default 10,000; smoke 200)")
    parser.add_argument("--smoke", action="store_true", help="a few calls; figures printed, not judged")
    args = parser.parse_args()
    calls = args.calls or (200 if args.smoke else 10_000)

    calendar = china()
    end = deadline(START, TARGET, calendar)
    assert end == EXPECTED, end
    assert elapsed(START, end, calendar) == TARGET

    for _ in range(200):  # warm up
        deadline(START, TARGET, calendar)
    result = {
        "calls": calls,
        "deadline_15wd_us": median_us(lambda: deadline(START, TARGET, calendar), calls),
        "elapsed_15wd_us": median_us(lambda: elapsed(START, end, calendar), calls),
        "deadline_15wd_cold_us": median_us(lambda: deadline(START, TARGET, china()), max(calls // 10, 1)),
    }
    print(f"15 working days from {START:%Y-%m-%d %H:%M} → {end.astimezone(SHANGHAI):%Y-%m-%d %H:%M} (+08:00)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
