"""Role checks for the desk's templates, from the groups already loaded for the
request (no query of their own; the reports permission reads the cached permissions),
and the names of the alerts for the page's script."""

from django import template

from tickets.access import (
    can_work,
    chat_status,
    manages_canned_answers,
    reads_merchant_reports,
    reads_reports,
    reviews_merchants,
)
from tickets.models import AgentAvailability, StaffAlert

register = template.Library()
register.filter("manages_canned_answers", manages_canned_answers)
register.filter("reads_merchant_reports", reads_merchant_reports)
register.filter("reads_reports", reads_reports)
register.filter("reviews_merchants", reviews_merchants)
register.filter("can_work", can_work)


@register.simple_tag
def desk_alert_kinds() -> dict[str, str]:
    """What each kind of alert is called, in the page's language (for the live notice)."""
    return {value: str(label) for value, label in StaffAlert.Kind.choices}


@register.simple_tag
def desk_availability(user) -> AgentAvailability:
    """The user's chat availability for the header's switch (offline when never set)."""
    status = chat_status(user)  # read with the user's other facts: no query of its own
    return AgentAvailability(user=user) if status is None else AgentAvailability(user=user, status=status)
