"""Role checks for the desk's templates, from the groups already loaded for the
request (no query of their own; the reports permission reads the cached permissions),
and the names of the alerts for the page's script."""

from django import template

from tickets.access import manages_canned_answers, reads_merchant_reports, reads_reports, reviews_merchants
from tickets.models import StaffAlert

register = template.Library()
register.filter("manages_canned_answers", manages_canned_answers)
register.filter("reads_merchant_reports", reads_merchant_reports)
register.filter("reads_reports", reads_reports)
register.filter("reviews_merchants", reviews_merchants)


@register.simple_tag
def desk_alert_kinds() -> dict[str, str]:
    """What each kind of alert is called, in the page's language (for the live notice)."""
    return {value: str(label) for value, label in StaffAlert.Kind.choices}
