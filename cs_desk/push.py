"""What the sockets share: sending to the WebSocket groups from sync code (a view,
a service's after-commit consumer, the sweep), and running sync code from a socket.
Who listens to which group is decided by the sockets (``desk.live``,
``complaints.live``); the chat's group is named here because both sides join it."""

from __future__ import annotations

import asyncio
import threading
import time

from asgiref.sync import async_to_sync
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
    """Send each (group, message), in order. Runs the sends through
    ``async_to_sync`` (on the server's loop under ASGI), or, from a thread that
    runs an event loop of its own (which ``async_to_sync`` refuses: an async
    caller of sync code, a test driving a browser), in a short-lived thread."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(send_all)()
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            async_to_sync(send_all)()
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="desk-push")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
