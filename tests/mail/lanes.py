"""Handlers for ``mail.imap.MailLanes`` in the tests: module-level, so that a lane's
own process (started by spawn) can import them."""

from __future__ import annotations

import os
from pathlib import Path

from mail.imap import imap_mail_receive

DIES = b"X-Test-Dies: yes"


def dies_once(raw: bytes) -> int:
    """The pipeline, except that the lane's process dies (SIGKILL-like, no clean-up)
    the first time it is handed a message carrying ``DIES``, before storing it. The
    first time is marked by the file named in CS_DESK_TEST_DIED."""
    marker = Path(os.environ["CS_DESK_TEST_DIED"])
    if DIES in raw and not marker.exists():
        marker.write_text("died")
        os._exit(9)
    return imap_mail_receive(raw)
