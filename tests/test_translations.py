"""The Simplified Chinese catalogue is complete, valid and actually used.

Chinese is the default language of the interface and of the emails sent to
consumers, agents, merchants and managers, so an English string leaking into
it is a bug. These tests fail, with the list of msgids to fix, when

- an entry of locale/zh_Hans/LC_MESSAGES/django.po is untranslated or fuzzy,
  or its translation drops a placeholder or a line break;
- the source has a translatable string the catalogue lacks (or the catalogue
  keeps one the source no longer has). Fix: run

      python manage.py makemessages -l zh_Hans --no-location \\
          --ignore=.venv --ignore=.data --ignore=bench --ignore=tests

  and translate the new entries (existing translations are kept).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tickets.models import SLATarget, Ticket
from tickets.notifications import notification_build

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
MAKEMESSAGES = [
    "makemessages",
    "-l",
    "zh_Hans",
    "--no-location",
    "--ignore=.venv",
    "--ignore=.data",
    "--ignore=bench",
    "--ignore=tests",
]
# What makemessages reads when run at the top of the repository (the rest is ignored above).
SOURCES = ["cs_desk", "tickets", "merchants", "feedback", "templates", "manage.py", "locale"]


@dataclass
class Entry:
    msgid: str
    msgstr: list[str]
    msgctxt: str | None = None
    msgid_plural: str | None = None
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def po_entries(path: Path) -> list[Entry]:
    """The live entries of a .po file (the header and obsolete ``#~`` entries left out)."""
    entries: list[Entry] = []
    fields: dict[str, list[str]] = {}
    flags: set[str] = set()
    current: list[str] | None = None

    def flush() -> None:
        nonlocal fields, flags
        if "msgid" in fields:
            msgstr = [fields[k][0] for k in sorted(fields) if k.startswith("msgstr")]
            entries.append(
                Entry(
                    msgid=fields["msgid"][0],
                    msgstr=msgstr,
                    msgctxt=fields.get("msgctxt", [None])[0],
                    msgid_plural=fields.get("msgid_plural", [None])[0],
                    flags=flags,
                )
            )
        fields, flags = {}, set()

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#~"):
            if not line:
                flush()
                current = None
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert current is not None, f"{path}: continuation line without a keyword: {line}"
            current[0] += ast.literal_eval(line)
        else:
            keyword, _, literal = line.partition(" ")
            current = [ast.literal_eval(literal)]
            fields[keyword] = current
    flush()
    return [entry for entry in entries if entry.msgid != ""]


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\([a-z_0-9]+\)[a-z]|%%|%[sdr]|\{[a-z_0-9]+\}", text))


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    entries = po_entries(PO)
    untranslated = [e.msgid for e in entries if not all(e.msgstr)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]

    assert len(entries) > 200
    assert {"untranslated": untranslated, "fuzzy": fuzzy} == {"untranslated": [], "fuzzy": []}


def test_translations_keep_placeholders_and_line_breaks() -> None:
    broken = []
    for entry in po_entries(PO):
        for msgstr in entry.msgstr:
            source = entry.msgid_plural or entry.msgid
            if "no-python-format" not in entry.flags and _placeholders(source) != _placeholders(msgstr):
                broken.append((entry.msgid, msgstr))
            if entry.msgid.count("\n") != msgstr.count("\n"):
                broken.append((entry.msgid, msgstr))
    assert broken == []


def test_header_declares_chinese_with_one_plural_form() -> None:
    header = PO.read_text(encoding="utf-8").split("\n\n", 1)[0]

    assert "#, fuzzy" not in header
    assert '"Language: zh_Hans\\n"' in header
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header


def test_msgfmt_accepts_the_catalogue() -> None:
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (GNU gettext) is not installed; CI installs gettext")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(PO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


@pytest.mark.slow
def test_catalogue_has_exactly_the_strings_in_the_source(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("xgettext/msgmerge (GNU gettext) are not installed; CI installs gettext")
    # given a copy of the source, so that makemessages cannot touch the working tree
    for name in SOURCES + [p.name for p in ROOT.iterdir() if (p / "apps.py").is_file()]:
        source = ROOT / name
        if source.is_dir() and not (tmp_path / name).exists():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        elif source.is_file():
            shutil.copy2(source, tmp_path / name)
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "cs_desk.settings.test"}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cs_desk")

    # when makemessages extracts the strings and merges them into the committed catalogue
    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    # then nothing is new, nothing is stale, and every translation still fits its msgid
    assert result.returncode == 0, result.stderr
    merged = po_entries(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    committed = {e.key for e in po_entries(PO)}
    extracted = {e.key for e in merged}
    assert sorted(extracted - committed) == [], "strings in the source without a translation (run makemessages)"
    assert sorted(committed - extracted) == [], "translations of strings the source no longer has"
    assert [e.msgid for e in merged if "fuzzy" in e.flags or not all(e.msgstr)] == []


@pytest.fixture
def compiled_catalogue(settings) -> None:
    """The .mo next to the .po, compiled now if missing or older than the .po.

    Compiled to a temporary file and moved into place, so that a test run in
    parallel never reads a half-written catalogue.
    """
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        if shutil.which("msgfmt") is None:
            pytest.skip("no compiled catalogue and msgfmt (GNU gettext) is not installed")
        fd, partial = tempfile.mkstemp(dir=MO.parent, suffix=".mo.partial")
        os.close(fd)
        try:
            result = subprocess.run(
                ["msgfmt", "--check-format", "-o", partial, str(PO)], capture_output=True, text=True
            )
            if result.returncode != 0:
                pytest.fail(f"msgfmt cannot compile {PO}:\n{result.stderr}")
            os.chmod(partial, 0o644)
            os.replace(partial, MO)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    # Re-assigning LOCALE_PATHS makes Django drop the catalogues it has loaded.
    settings.LOCALE_PATHS = list(django_settings.LOCALE_PATHS)


CONTEXT = {
    "reference": "CS-20261123-000042",
    "name": "王芳",
    "subject": "订单显示已付款但没有生成",
    "due": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),  # 18:00 in Shanghai
    "tracking_url": "https://cs.example.cn/t/abc123/",
}


@pytest.mark.usefixtures("compiled_catalogue")
def test_ticket_statuses_read_in_chinese_by_default_and_in_english_on_request() -> None:
    with translation.override("zh-hans"):
        assert str(Ticket.Status.AWAITING_MERCHANT.label) == "等待商家"
        assert str(Ticket.Status.PENDING.label) == "等待用户回复"
        assert str(SLATarget.Kind.FIRST_RESPONSE.label) == "首次响应"
    with translation.override("en"):
        assert str(Ticket.Status.AWAITING_MERCHANT.label) == "Awaiting merchant"


@pytest.mark.usefixtures("compiled_catalogue")
def test_consumer_acknowledgement_is_written_in_the_consumers_language() -> None:
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    chinese = notification_build(
        kind="ticket_received", recipient="wang@example.cn", language="zh-hans", context=CONTEXT, at=at
    )
    english = notification_build(
        kind="ticket_received", recipient="wang@example.cn", language="en", context=CONTEXT, at=at
    )

    assert chinese.subject == "[CS-20261123-000042] 我们已收到您的投诉"
    assert chinese.body == (
        "王芳，您好：\n\n"
        "我们已收到您的投诉“订单显示已付款但没有生成”（工单编号 CS-20261123-000042）。\n"
        "我们将在 2026年11月25日 18:00（北京时间） 前答复您。\n\n"
        "查看处理进度或补充回复，请访问：https://cs.example.cn/t/abc123/\n"
    )
    assert english.subject == "[CS-20261123-000042] We have received your complaint"
    assert "We will reply by Nov. 25, 2026, 6 p.m. (Beijing time).\n" in english.body


@pytest.mark.usefixtures("compiled_catalogue")
def test_escalation_email_renders_target_and_priority_in_the_recipients_language() -> None:
    context = CONTEXT | {"target": SLATarget.Kind.FIRST_RESPONSE.label, "priority": Ticket.Priority.URGENT.label}
    at = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)

    chinese = notification_build(
        kind="sla_breach", recipient="lead@example.cn", language="zh-hans", context=context, at=at
    )
    english = notification_build(kind="sla_breach", recipient="lead@example.cn", language="en", context=context, at=at)

    assert chinese.subject == "[CS-20261123-000042] 首次响应已超时，已升级给您"
    assert chinese.body == (
        "工单 CS-20261123-000042“订单显示已付款但没有生成”的首次响应"
        "应于 2026年11月25日 18:00（北京时间） 前完成，现已超时。\n"
        "该工单的优先级已调整为“紧急”，并已转交团队主管处理。\n"
    )
    assert english.subject == "[CS-20261123-000042] First response overdue — escalated to you"
    assert "The ticket is now Urgent and has been handed to the team's supervisors.\n" in english.body


@pytest.mark.django_db
@pytest.mark.usefixtures("compiled_catalogue")
def test_a_batch_renders_each_row_as_the_single_row_path_does(category) -> None:
    """The sweep renders its outbox rows grouped by language; a mixed batch comes
    out exactly as rendering each row on its own."""
    from django.db import transaction

    from tickets.models import Notification
    from tickets.notifications import Outgoing, notifications_insert

    first = CONTEXT | {"target": SLATarget.Kind.FIRST_RESPONSE.label, "priority": Ticket.Priority.URGENT.label}
    second = first | {
        "reference": "CS-20261123-000043",
        "due": datetime(2026, 11, 26, 1, 30, tzinfo=UTC),
        "priority": Ticket.Priority.NORMAL.label,
    }
    at = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)
    batch = [
        Outgoing("sla_breach", "lead@example.cn", "zh-hans", first),
        Outgoing("sla_breach", "lead@example.com", "en", first),
        Outgoing("sla_breach", "lead@example.cn", "zh-hans", second),
        Outgoing("sla_breach", "lead@example.com", "en", second),
        Outgoing("sla_warning", "agent@example.cn", "zh-hans", second | {"percent": 75}),
    ]

    with transaction.atomic():
        ids = notifications_insert(batch, at=at)

    rows = Notification.objects.in_bulk(ids)
    for pk, item in zip(ids, batch, strict=True):
        alone = notification_build(
            kind=item.kind, recipient=item.recipient, language=item.language, context=item.context, at=at
        )
        row = rows[pk]
        assert (row.kind, row.recipient, row.language, row.status) == (
            item.kind,
            item.recipient,
            item.language,
            "pending",
        )
        assert (row.subject, row.body) == (alone.subject, alone.body)
    assert "2026年11月26日 09:30（北京时间）" in rows[ids[2]].body
    assert "The ticket is now Normal" in rows[ids[3]].body
