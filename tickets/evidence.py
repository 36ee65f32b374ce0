"""Evidence files: where they are kept and how they are written and read back.

Files arrive already checked and cleaned (:func:`tickets.uploads.evidence_clean`).
They are stored under ``settings.EVIDENCE_ROOT`` (never under a URL the web
server serves by itself) with a random name; the sender's file name is kept in
the database for display only.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import NamedTuple

from django.core.files.base import ContentFile
from django.http import FileResponse, HttpResponse

from tickets.models import Attachment, Message, Ticket
from tickets.storage import evidence_storage
from tickets.uploads import CleanFile


class Staged(NamedTuple):
    name: str  # where the file is stored, relative to EVIDENCE_ROOT
    clean: CleanFile


@contextmanager
def evidence_staged(files: Sequence[CleanFile], *, now: datetime) -> Iterator[list[Staged]]:
    """Write ``files`` under random names before the transaction that records
    them; remove them again if that transaction fails. (If an outer transaction
    rolls back later, the files stay behind, unreferenced and unreachable, until
    :func:`evidence_orphans_remove` clears them.)"""
    storage = evidence_storage()
    staged: list[Staged] = []
    try:
        for clean in files:
            name = storage.save(f"{now:%Y/%m}/{secrets.token_hex(16)}{clean.extension}", ContentFile(clean.content))
            staged.append(Staged(name, clean))
        yield staged
    except BaseException:
        for item in staged:
            storage.delete(item.name)
        raise


# What evidence_staged names a file: the month it was written, then 32 random hex digits.
_STAGED_NAME = re.compile(r"\d{4}/\d{2}/[0-9a-f]{32}\.[a-z0-9]+")
_BATCH = 500


def evidence_orphans_remove(*, now: datetime, grace: timedelta = timedelta(hours=1)) -> int:
    """Remove evidence files that no attachment names and that are older than
    ``grace``: written for a transaction that rolled back after they were staged
    (a consumer's screenshot must not stay on disk, unreferenced). Looks in this
    month's and last month's directories (files are filed by the month they were
    written; the job runs every hour); a file younger than ``grace`` may belong
    to a transaction still open and is left alone. Returns how many went."""
    storage = evidence_storage()
    cutoff = now - grace
    months = {f"{now:%Y/%m}", f"{now.replace(day=1) - timedelta(days=1):%Y/%m}"}
    removed = 0
    for month in sorted(months):
        try:
            _directories, files = storage.listdir(month)
        except FileNotFoundError:
            continue
        names = [f"{month}/{f}" for f in files if _STAGED_NAME.fullmatch(f"{month}/{f}")]
        for start in range(0, len(names), _BATCH):
            batch = names[start : start + _BATCH]
            kept = set(Attachment.objects.filter(file__in=batch).values_list("file", flat=True))
            for name in batch:
                if name not in kept and storage.get_modified_time(name) < cutoff:
                    storage.delete(name)
                    removed += 1
    return removed


def evidence_record(*, ticket: Ticket, message: Message, staged: Sequence[Staged], now: datetime) -> list[Attachment]:
    """The rows of staged files, attached to ``message``."""
    attachments = []
    for name, clean in staged:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            original_name=clean.original_name,
            content_type=clean.content_type,
            size=len(clean.content),
            width=clean.width,
            height=clean.height,
            sha256=clean.sha256,
            created_at=now,
        )
        attachment.file.name = name
        attachments.append(attachment)
    return Attachment.objects.bulk_create(attachments)


def evidence_response(attachment: Attachment) -> HttpResponse:
    """The file as a download: images inline (to be viewed), everything else as an
    attachment."""
    return file_response(attachment.file.name, content_type=attachment.content_type, filename=attachment.original_name)


def file_response(name: str, *, content_type: str, filename: str) -> HttpResponse:
    """A stored private file (evidence, a merchant's documents): images inline,
    everything else as an attachment; never sniffed by the browser, never cached
    by a shared cache, and sandboxed should a browser try to render it as a page."""
    handle = evidence_storage().open(name, "rb")
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not content_type.startswith("image/"),
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
