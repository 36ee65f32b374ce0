"""The live desk's channel-layer groups (sending: ``cs_desk.push``): who listens
is decided in ``desk.live``."""

from __future__ import annotations

from cs_desk.push import chat_group, groups_send

__all__ = ["EVERYTHING", "chat_group", "groups_send", "team_group", "ticket_group", "user_group"]

EVERYTHING = "desk.all"


def team_group(team_id: int) -> str:
    return f"desk.team.{team_id}"


def user_group(user_id: int) -> str:
    return f"desk.user.{user_id}"


def ticket_group(ticket_id: int) -> str:
    """The pages watching one ticket's workspace."""
    return f"desk.ticket.{ticket_id}"
