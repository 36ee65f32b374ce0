"""feedback.services.ticket_keyword_hits_write: a complaint's keyword hits are
written from its keyword-alert event (tickets.events, in the transaction), once."""

import pytest

from feedback.models import KeywordHit
from feedback.services import feedback_submit, ticket_keyword_hits_write
from tickets import services
from tickets.events import EventRow
from tickets.models import AlertKeyword, TicketEvent

pytestmark = pytest.mark.django_db


def filed(category, body: str):
    return services.ticket_create(
        category=category, subject="投诉", body=body, requester_name="李娜", requester_phone="13812345678"
    )


def test_one_hit_per_word_and_a_repeated_event_writes_nothing_twice(category):
    fraud, theft = AlertKeyword.objects.create(word="诈骗"), AlertKeyword.objects.create(word="盗号")
    ticket = filed(category, "有人诈骗，还盗号了。")
    assert sorted(ticket.keyword_hits.values_list("keyword_id", flat=True)) == sorted([fraud.pk, theft.pk])
    # the same event heard again (a retried consumer)
    event = ticket.events.get(kind=TicketEvent.Kind.KEYWORD_ALERT)
    ticket_keyword_hits_write([EventRow.of(event)])
    assert KeywordHit.objects.filter(ticket=ticket).count() == 2


def test_other_events_and_words_deleted_meanwhile_write_nothing(category):
    fraud = AlertKeyword.objects.create(word="诈骗")
    ticket = filed(category, "商品有问题，商家不理。")
    assert not KeywordHit.objects.exists()
    ticket_keyword_hits_write([EventRow.of(e) for e in ticket.events.all()])
    assert not KeywordHit.objects.exists()
    # an event naming a word an administrator deleted since
    alert = ticket.events.create(
        kind=TicketEvent.Kind.KEYWORD_ALERT, data={"words": ["诈骗"], "keyword_ids": [fraud.pk]}
    )
    fraud.delete()
    ticket_keyword_hits_write([EventRow.of(alert)])
    assert not KeywordHit.objects.exists()


def test_feedback_is_matched_by_the_same_rule(manager):
    AlertKeyword.objects.create(word="Fraud")
    feedback = feedback_submit(topic="site", body="An app ad is a FRAUD", language="en")
    assert feedback.is_flagged
    assert list(KeywordHit.objects.values_list("feedback_id", "keyword__word")) == [(feedback.pk, "Fraud")]
