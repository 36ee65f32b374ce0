"""The SLA preview, from the command line and the API ("when will I hear back?")."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

# Normal, filed Wed 2026-09-30 10:00: first/next response 27 working hours → Sat 10/10 10:00
# (9/30 8 h; 10/1–10/7 off; 10/8, 10/9 → 26 h; Sat 10/10 is a make-up working day);
# resolution 90 h → 10/10 35 h, Mon 10/12–Fri 10/16 80 h, Mon 10/19 89 h → Tue 10/20 10:00.
NORMAL = {
    "priority": "normal",
    "at": "2026-09-30T10:00:00+08:00",
    "first_response_due": "2026-10-10T10:00:00+08:00",
    "next_response_due": "2026-10-10T10:00:00+08:00",
    "resolution_due": "2026-10-20T10:00:00+08:00",
}


@pytest.mark.django_db
def test_command_prints_the_due_times():
    out = io.StringIO()
    call_command("sla_preview", "--priority", "normal", "--at", "2026-09-30T10:00+08:00", stdout=out)
    assert json.loads(out.getvalue()) == NORMAL


@pytest.mark.django_db
def test_api_answers_the_same_json(client):
    response = client.get("/api/v1/sla/preview", {"priority": "normal", "at": "2026-09-30T10:00+08:00"})
    assert response.status_code == 200
    assert response.json() == NORMAL


@pytest.mark.django_db
def test_urgent_runs_on_calendar_time(client):
    # 24 h / 24 h / 72 h around the clock from 02:00 UTC (10:00 in Shanghai), holidays or not.
    response = client.get("/api/v1/sla/preview", {"priority": "urgent", "at": "2026-10-01T02:00Z"})
    assert response.json() == {
        "priority": "urgent",
        "at": "2026-10-01T02:00:00+00:00",
        "first_response_due": "2026-10-02T10:00:00+08:00",
        "next_response_due": "2026-10-02T10:00:00+08:00",
        "resolution_due": "2026-10-04T10:00:00+08:00",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"priority": "whenever", "at": "2026-09-30T10:00+08:00"}, "invalid_priority", "priority"),
        ({"priority": "normal", "at": "2026-09-30T10:00"}, "naive_datetime", "at"),
        ({"priority": "normal", "at": "next tuesday"}, "invalid_datetime", "at"),
        ({"priority": "normal"}, "required", "at"),
        ({}, "required", "at"),
    ],
)
def test_api_bad_input_is_400_with_a_reason(client, params, code, field):
    response = client.get("/api/v1/sla/preview", params)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert body["message"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--priority", "whenever", "--at", "2026-09-30T10:00+08:00"], "whenever"),
        (["--priority", "normal", "--at", "2026-09-30T10:00"], "offset"),
        (["--priority", "normal", "--at", "yesterday"], "ISO-8601"),
        (["--priority", "normal"], "--at"),
    ],
)
def test_command_bad_input_exits_2(args, message):
    s = connection.settings_dict
    result = subprocess.run(
        [sys.executable, "manage.py", "sla_preview", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_desk.settings.base",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
            "LANGUAGE_CODE": "en",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
