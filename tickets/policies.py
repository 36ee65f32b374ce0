"""Which SLA policy a ticket gets: the one rule, used by intake, every change
that opens or re-dates a target, the consumer's promise on the complaint form,
the preview (API and command) and the admin's "which policy applies?" screen.

Policies are tried in order (``SLAPolicy.objects.in_order()``): those with
conditions by position, then the fallbacks, one per priority. The first whose
every condition holds wins; an empty condition holds for every ticket. So a
chat about a refund may have its own clock, a VIP merchant's complaints theirs,
and everything else keeps the policy of its priority, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cs_desk.exceptions import ApplicationError
from tickets.config_cache import config_cached
from tickets.models import SLAPolicy


@dataclass(frozen=True)
class PolicyQuestion:
    """What a policy's conditions are checked against."""

    priority: str
    channel: str = ""
    category_id: int | None = None
    team_id: int | None = None
    merchant_id: int | None = None

    @classmethod
    def asked(
        cls, *, category=None, priority: str = "", channel: str = "web", merchant_id: int | None = None
    ) -> PolicyQuestion:
        """A ticket not filed yet: of ``category`` (its team, and its default
        priority unless ``priority`` is given), on ``channel``."""
        return cls(
            priority=priority or (category.default_priority if category is not None else ""),
            channel=channel,
            category_id=category.pk if category is not None else None,
            team_id=category.team_id if category is not None else None,
            merchant_id=merchant_id,
        )

    @classmethod
    def of(cls, ticket) -> PolicyQuestion:
        return cls(
            priority=ticket.priority,
            channel=ticket.channel,
            category_id=ticket.category_id,
            team_id=ticket.team_id,
            merchant_id=ticket.merchant_id,
        )


def policy_matches(policy: SLAPolicy, question: PolicyQuestion) -> bool:
    return (
        (not policy.priority or policy.priority == question.priority)
        and (not policy.channel or policy.channel == question.channel)
        and (policy.category_id is None or policy.category_id == question.category_id)
        and (policy.team_id is None or policy.team_id == question.team_id)
        and (policy.merchant_id is None or policy.merchant_id == question.merchant_id)
    )


def policies_in_order() -> list[SLAPolicy]:
    """Every policy, in the order they are tried, with its calendar: read once
    per process and configuration change (``tickets.config_cache``). Read only."""
    return list(config_cached("policies", lambda: list(SLAPolicy.objects.in_order().select_related("calendar"))))


def policy_choose(question: PolicyQuestion, policies: Iterable[SLAPolicy] | None = None) -> SLAPolicy:
    """The first policy of ``policies`` (by default all, in order) whose
    conditions hold for ``question``."""
    for policy in policies_in_order() if policies is None else policies:
        if policy_matches(policy, question):
            return policy
    raise ApplicationError(
        _("No SLA policy is configured for priority %(priority)s.") % {"priority": question.priority},
        code="no_sla_policy",
    )


def policy_for_ticket(ticket, policies: Iterable[SLAPolicy] | None = None) -> SLAPolicy:
    """The policy for ``ticket`` as it is now (its priority, channel, category,
    team and merchant)."""
    return policy_choose(PolicyQuestion.of(ticket), policies)
