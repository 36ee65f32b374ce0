"""The SLA preview ("when will I hear back?"): ``manage.py sla_preview`` and
``GET /api/v1/sla/preview`` print the same JSON, on the seeded China calendar and
the seeded policies. Bad input is exit code 2 / HTTP 400 with the reason."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/sla/preview"

# Normal, filed Wed 2026-09-30 10:00. First and next response, 3 working days = 27 h:
# 9/30 10–18 8 h; Thu 10/1–Wed 10/7 off (National Day); Thu 10/8 (17), Fri 10/9 (26);
# Sat 10/10 is a make-up working day: 09:00 + 1 h → 10/10 10:00.
# Resolution, 10 working days = 90 h: Sat 10/10 (35); Sun off; Mon 10/12–Fri 10/16 (80);
# Mon 10/19 (89); Tue 10/20 09:00 + 1 h → 10/20 10:00.
# Each answer names the policy that gave it: by priority alone, the priority's fallback,
# named by the priority in the reader's language.
NORMAL = {
    "priority": "normal",
    "channel": "web",
    "category": None,
    "policy": "普通",
    "at": "2026-09-30T10:00:00+08:00",
    "first_response_due": "2026-10-10T10:00:00+08:00",
    "next_response_due": "2026-10-10T10:00:00+08:00",
    "resolution_due": "2026-10-20T10:00:00+08:00",
}
# Low, filed at the same instant. 5 working days = 45 h: 10/10 (35), Mon 10/12 (44),
# Tue 10/13 09:00 + 1 h → 10:00. 15 working days = 135 h: 10/10 (35), 10/12–10/16 (80),
# 10/19–10/23 (125), Mon 10/26 (134), Tue 10/27 09:00 + 1 h → 10:00.
LOW = {
    "priority": "low",
    "channel": "web",
    "category": None,
    "policy": "低",
    "at": "2026-09-30T10:00:00+08:00",
    "first_response_due": "2026-10-13T10:00:00+08:00",
    "next_response_due": "2026-10-13T10:00:00+08:00",
    "resolution_due": "2026-10-27T10:00:00+08:00",
}
# Urgent, filed Thu 10/1 02:00 UTC (10:00 in Shanghai, National Day): calendar time,
# holidays or not. 24 h → Fri 10/2 10:00 +08:00; 72 h → Sun 10/4 10:00 +08:00. The
# instant asked about is echoed as given (UTC).
URGENT = {
    "priority": "urgent",
    "channel": "web",
    "category": None,
    "policy": "紧急",
    "at": "2026-10-01T02:00:00+00:00",
    "first_response_due": "2026-10-02T10:00:00+08:00",
    "next_response_due": "2026-10-02T10:00:00+08:00",
    "resolution_due": "2026-10-04T10:00:00+08:00",
}


def named(answer: dict) -> dict:
    """The answer with its policy given by name (ids differ from run to run)."""
    return {**answer, "policy": answer["policy"]["name"]}


def preview_command(*args: str) -> dict:
    out = io.StringIO()
    call_command("sla_preview", *args, stdout=out)
    return named(json.loads(out.getvalue()))


def manage(*args: str) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a fresh process against the test database (the test must
    be transactional so that the seeded calendar and policies are committed)."""
    db = connection.settings_dict
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_desk.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- command -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--priority", "normal", "--at", "2026-09-30T10:00+08:00"], NORMAL),
        (["--priority", "low", "--at", "2026-09-30T10:00+08:00"], LOW),
        (["--priority", "urgent", "--at", "2026-10-01T02:00Z"], URGENT),
        # The same instant written in UTC gives the same due times.
        (["--priority", "normal", "--at", "2026-09-30T02:00:00Z"], {**NORMAL, "at": "2026-09-30T02:00:00+00:00"}),
    ],
    ids=["normal", "low", "urgent-z", "normal-z"],
)
def test_command_prints_the_due_times(args, expected):
    assert preview_command(*args) == expected


@pytest.mark.django_db
def test_command_warns_when_a_deadline_needs_a_missing_year(caplog, monkeypatch):
    from tickets import calendars

    monkeypatch.setattr(calendars, "_warned_years", set())
    # Low, filed Thu 2026-12-31 10:00; 2027 falls back to the statutory holidays. First
    # response 45 h: 12/31 8; Fri 1/1 New Year's Day; Mon 1/4 (17), Tue 1/5 (26), Wed 1/6
    # (35), Thu 1/7 (44); Fri 1/8 09:00 + 1 h → 2027-01-08 10:00.
    with caplog.at_level(logging.WARNING, logger="tickets.calendars"):
        result = preview_command("--priority", "low", "--at", "2026-12-31T10:00+08:00")
    assert result["first_response_due"] == "2027-01-08T10:00:00+08:00"
    assert any("2027" in r.getMessage() for r in caplog.records if r.name == "tickets.calendars")


@pytest.mark.slow  # runs manage.py
@pytest.mark.django_db(transaction=True)
def test_command_line_prints_json_and_exits_0():
    result = manage("sla_preview", "--priority", "normal", "--at", "2026-09-30T10:00+08:00")
    assert result.returncode == 0, result.stderr
    assert named(json.loads(result.stdout)) == NORMAL


@pytest.mark.slow  # runs manage.py
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        # The messages are in the default language (Chinese); each quotes the input at
        # fault and shows what a good one looks like.
        (["--priority", "whenever", "--at", "2026-09-30T10:00+08:00"], ["'whenever'", "low, normal, urgent"]),
        (["--priority", "normal", "--at", "2026-09-30T10:00"], ["'2026-09-30T10:00'", "+08:00"]),
        (["--priority", "normal", "--at", "yesterday"], ["'yesterday'", "ISO-8601"]),
        (["--priority", "normal", "--at", "2026-02-30T10:00+08:00"], ["'2026-02-30T10:00+08:00'", "ISO-8601"]),
        (["--priority", "normal"], ["--at"]),
        (["--at", "2026-09-30T10:00+08:00"], ["--priority", "--category"]),
        (["--category", "no-such", "--at", "2026-09-30T10:00+08:00"], ["'no-such'"]),
        (["--priority", "normal", "--channel", "fax", "--at", "2026-09-30T10:00+08:00"], ["'fax'", "chat"]),
    ],
    ids=["bad-priority", "naive", "garbage", "no-such-day", "no-at", "no-priority", "bad-category", "bad-channel"],
)
def test_command_line_bad_input_exits_2_naming_the_problem(args, message):
    result = manage("sla_preview", *args)
    assert result.returncode == 2
    assert all(part in result.stderr for part in message), result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


# --- API -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"priority": "normal", "at": "2026-09-30T10:00+08:00"}, NORMAL),
        ({"priority": "low", "at": "2026-09-30T10:00+08:00"}, LOW),
        ({"priority": "urgent", "at": "2026-10-01T02:00Z"}, URGENT),
    ],
    ids=["normal", "low", "urgent-z"],
)
def test_api_answers_the_same_json_as_the_command(client, params, expected):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert named(response.json()) == expected


@pytest.mark.django_db
def test_api_accepts_an_unencoded_plus_in_the_offset(client):
    # Typed into a browser, "+08:00" arrives as " 08:00" (a + in a query string is a space).
    response = client.get(f"{URL}?priority=normal&at=2026-09-30T10:00+08:00")
    assert response.status_code == 200
    assert named(response.json()) == NORMAL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"priority": "whenever", "at": "2026-09-30T10:00+08:00"}, "invalid_priority", "priority"),
        ({"priority": "NORMAL", "at": "2026-09-30T10:00+08:00"}, "invalid_priority", "priority"),
        ({"priority": "", "at": "2026-09-30T10:00+08:00"}, "invalid_priority", "priority"),
        ({"at": "2026-09-30T10:00+08:00"}, "invalid_priority", "priority"),
        ({"category": "no-such", "at": "2026-09-30T10:00+08:00"}, "invalid_category", "category"),
        ({"priority": "normal", "channel": "fax", "at": "2026-09-30T10:00+08:00"}, "invalid_channel", "channel"),
        ({"priority": "normal", "at": "2026-09-30T10:00"}, "naive_datetime", "at"),
        ({"priority": "normal", "at": "2026-09-30"}, "naive_datetime", "at"),
        ({"priority": "normal", "at": "next tuesday"}, "invalid_datetime", "at"),
        ({"priority": "normal", "at": "2026-13-45T10:00+08:00"}, "invalid_datetime", "at"),
        ({"priority": "normal", "at": "2026-09-30T10:00+99:00"}, "invalid_datetime", "at"),
        ({"priority": "normal", "at": "\x00"}, "invalid_characters", "at"),  # refused before the view
        # Dates Python can hold but the calendar walk would overflow.
        ({"priority": "normal", "at": "9999-12-31T23:59+08:00"}, "invalid_datetime", "at"),
        ({"priority": "urgent", "at": "9999-12-31T23:59Z"}, "invalid_datetime", "at"),
        ({"priority": "normal", "at": "0001-01-01T00:00+08:00"}, "invalid_datetime", "at"),
        ({"priority": "normal", "at": ""}, "required", "at"),
        ({"priority": "normal"}, "required", "at"),
        ({}, "required", "at"),
    ],
)
def test_api_bad_input_is_400_with_a_code_and_a_message(client, params, code, field):
    client.raise_request_exception = False  # a 500 must show as a failed status, not an exception
    response = client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert isinstance(body["message"], str) and body["message"]
