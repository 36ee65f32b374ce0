"""Speed of the pure calculator: a 15-working-day target (135 h) from Sun
2026-09-20 09:00 (a make-up working day) across National Day, on China's
official calendar built from chinesecalendar (no database needed).

    .venv/bin/python bench/calendar.py [--calls 20000]

Last line: one JSON object with microseconds per call (median of 5 rounds).
"""

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chinese_calendar import constants

from tickets.sla.calendar import WorkingCalendar, deadline, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    calls = parser.parse_args().calls
    shanghai = ZoneInfo("Asia/Shanghai")
    calendar = WorkingCalendar(
        tz=shanghai,
        periods=((clock_time(9), clock_time(18)),),
        holidays=frozenset(constants.holidays),
        workdays=frozenset(constants.workdays),
    )
    start = datetime(2026, 9, 20, 9, tzinfo=shanghai)
    end = deadline(start, timedelta(hours=135), calendar)
    assert end == datetime(2026, 10, 15, 18, tzinfo=shanghai), end

    def per_call(fn) -> float:
        rounds = []
        for _ in range(5):
            began = time.perf_counter()
            for _ in range(calls):
                fn()
            rounds.append((time.perf_counter() - began) / calls * 1e6)
        return statistics.median(rounds)

    result = {
        "calls": calls,
        "deadline_15wd_us": round(per_call(lambda: deadline(start, timedelta(hours=135), calendar)), 1),
        "elapsed_15wd_us": round(per_call(lambda: elapsed(start, end, calendar)), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
