"""CSV downloads that Excel opens correctly and safely.

* UTF-8 with a byte-order mark, so Excel shows Chinese instead of mojibake;
* a cell that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a
  leading apostrophe, so text a consumer typed is never run as a formula;
* streamed row by row, so an export of many rows never sits in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        # A negative number is a number, not a formula.
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow([csv_cell(h) for h in header])
        for row in rows:
            yield writer.writerow([csv_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
