"""The live desk's channel-layer groups, and sending to them from sync code (a
view, the sweep's after-commit consumer): who listens is decided in ``desk.live``."""

from __future__ import annotations

import asyncio
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

EVERYTHING = "desk.all"


def team_group(team_id: int) -> str:
    return f"desk.team.{team_id}"


def user_group(user_id: int) -> str:
    return f"desk.user.{user_id}"


def ticket_group(ticket_id: int) -> str:
    """The pages watching one ticket's workspace."""
    return f"desk.ticket.{ticket_id}"


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
