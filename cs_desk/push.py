"""What the sockets share: sending to the WebSocket groups from sync code (a view,
a service's after-commit consumer, the sweep), and running sync code from a socket.
Who listens to which group is decided by the sockets (``desk.live``,
``complaints.live``); the chat's group is named here because both sides join it."""

from __future__ import annotations

import asyncio
import os
import threading
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer


def db_call(func):
    """``func`` (sync, using the database) made awaitable for a socket: run on a
    thread of the pool, each with its own database connection, so that one
    socket's write does not queue behind every other socket's (Channels' default
    runs all of them on one thread, one after another)."""
    return database_sync_to_async(func, thread_sensitive=False)


TYPING_EVERY_S = 1.0


def typing_due(socket) -> bool:
    """Whether "is typing" from ``socket`` is passed on now: at most once a second
    (the pages send it every 2 s while typing; more is a client flooding the other side)."""
    now = time.monotonic()
    if now - getattr(socket, "typed_at", 0.0) < TYPING_EVERY_S:
        return False
    socket.typed_at = now
    return True


def chat_group(ticket_id: int) -> str:
    """Everyone in one chat: the consumer's pages and the agents' workspaces on it."""
    return f"chat.{ticket_id}"


def groups_send(messages: list[tuple[str, dict]]) -> None:
    """Send each (group, message), in order, and wait until Redis has them. From
    sync code anywhere (a view, an after-commit consumer, the sweep, a socket's
    database work on a thread, a test driving a browser): the sends run on this
    process's push loop (``_push_loop``)."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    asyncio.run_coroutine_threadsafe(send_all(), _push_loop()).result(timeout=PUSH_TIMEOUT_S)


# How long a push may take before the caller gives up on it (and logs it, for an
# after-commit consumer): far above the milliseconds it takes, far below a request's patience.
PUSH_TIMEOUT_S = 10

_loop: tuple[int, asyncio.AbstractEventLoop] | None = None
_loop_lock = threading.Lock()


def _push_loop() -> asyncio.AbstractEventLoop:
    """An event loop of this process's own, on a daemon thread, started at the first
    push. ``async_to_sync`` from plain sync code made a new loop for every call,
    and the channel layer keeps its Redis connections per loop: each push paid for
    a loop and a connection (about 3 ms of a complaint's POST). A forked child
    (gunicorn's and Celery's workers) starts its own: threads do not survive a fork."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="push-loop", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]
