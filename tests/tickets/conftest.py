import pytest

from tickets.models import BusinessCalendar


@pytest.fixture
def default_calendar() -> BusinessCalendar:
    return BusinessCalendar.objects.get(is_default=True)
