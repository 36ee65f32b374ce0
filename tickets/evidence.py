"""Evidence files: where they are kept and how they are written and read back.

Files arrive already checked and cleaned (:func:`tickets.uploads.evidence_clean`).
They are stored under ``settings.EVIDENCE_ROOT`` (never under a URL the web
server serves by itself) with a random name; the sender's file name is kept in
the database for display only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
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
    rolls back later, the files stay behind, unreferenced and unreachable.)"""
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
