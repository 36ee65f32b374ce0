"""Long-running commands (the mail readers) stop cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT, so that the work in hand is
    finished first; a second signal stops the process at once."""
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop
