"""Who hears about what. Staff roles are Django groups; supervisors are per team."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist

from tickets.models import Team

AGENTS = "agents"
SUPERVISORS = "supervisors"
MANAGERS = "managers"
ROLE_GROUPS = (AGENTS, SUPERVISORS, MANAGERS)

User = get_user_model()


def managers() -> list:
    """Active managers with an email address (level-2 escalations go to them)."""
    return list(
        User.objects.filter(groups__name=MANAGERS, is_active=True)
        .exclude(email="")
        .select_related("staff_profile")
        .order_by("pk")
        .distinct()
    )


def supervisors_by_team(team_ids: Iterable[int]) -> dict[int, list]:
    """Active supervisors of each team, in one query."""
    through = Team.supervisors.through
    rows = (
        through.objects.filter(team_id__in=set(team_ids), user__is_active=True)
        .select_related("user", "user__staff_profile")
        .order_by("team_id", "user_id")
    )
    result: dict[int, list] = defaultdict(list)
    for row in rows:
        result[row.team_id].append(row.user)
    return result


def merchant_addresses(merchant) -> list[tuple[str, object | None]]:
    """(email, user) pairs for a merchant: its contact address and its users."""
    pairs: list[tuple[str, object | None]] = []
    if merchant.contact_email:
        pairs.append((merchant.contact_email, None))
    for link in merchant.users.all():  # prefetched by the sweep
        if link.user.is_active and link.user.email and link.user.email not in {email for email, _ in pairs}:
            pairs.append((link.user.email, link.user))
    return pairs


def user_language(user) -> str:
    """Staff read notifications in the site's default language unless their
    profile says otherwise (the lists here select the profile with the user)."""
    try:
        profile = user.staff_profile
    except ObjectDoesNotExist:
        profile = None
    return (profile.language if profile is not None else "") or settings.LANGUAGE_CODE
