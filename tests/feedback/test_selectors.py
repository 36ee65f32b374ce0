"""feedback.selectors: the reads the consumer's tracking page takes from the feedback app."""

import pytest

from feedback.selectors import ticket_latest_survey
from feedback.services import survey_submit
from tickets import services

pytestmark = pytest.mark.django_db


def test_the_latest_rated_resolution(category, agent):
    ticket = services.ticket_create(
        category=category, subject="退款", body="退款没到账。", requester_name="李娜", requester_phone="13812345678"
    )
    assert ticket_latest_survey(ticket=ticket) is None
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
    survey_submit(ticket=ticket, rating=2)
    services.ticket_consumer_message(ticket=ticket, body="又出问题了")  # reopened
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
    survey_submit(ticket=ticket, rating=5)
    latest = ticket_latest_survey(ticket=ticket)
    assert (latest.resolution, latest.rating) == (2, 5)
