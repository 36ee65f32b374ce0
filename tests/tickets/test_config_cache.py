"""The configuration kept per process (tickets.config_cache): the SLA policies,
the alert words and the webhook endpoints are read once, and read again as soon
as anything changed them, whoever wrote and however (a service, the admin's
save, ``QuerySet.update``, another process), and never after a change that
rolled back."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction

from integrations.models import WebhookEndpoint
from integrations.webhooks import endpoints_subscribed
from tickets.calendars import calendar_changed
from tickets.config_cache import config_stamp
from tickets.keywords import keywords_in
from tickets.models import AlertKeyword, BusinessCalendar, SLAPolicy
from tickets.policies import policies_in_order

pytestmark = pytest.mark.django_db


def durations() -> dict[str, int]:
    """The urgent fallback's first response, as the cache serves it."""
    return {p.priority: p.first_response_amount for p in policies_in_order() if p.is_fallback}


class TestKept:
    def test_a_second_read_asks_only_for_the_stamp(self, django_assert_num_queries):
        policies_in_order()
        keywords_in("骗子")
        endpoints_subscribed(["ticket.created"])

        with django_assert_num_queries(3):  # one stamp per read, no policy, word or endpoint query
            policies = policies_in_order()
            keywords_in("骗子")
            endpoints_subscribed(["ticket.created"])
        assert len(policies) == SLAPolicy.objects.count()

    def test_a_change_by_queryset_update_is_seen_at_once(self):
        urgent = durations()["urgent"]
        SLAPolicy.objects.filter(is_fallback=True, priority="urgent").update(first_response_amount=urgent + 5)
        assert durations()["urgent"] == urgent + 5

    def test_an_alert_word_added_switched_off_and_deleted(self):
        assert keywords_in("这是骗局") == []
        word = AlertKeyword.objects.create(word="骗局")
        assert keywords_in("这是骗局") == [word]
        AlertKeyword.objects.filter(pk=word.pk).update(is_active=False)
        assert keywords_in("这是骗局") == []
        AlertKeyword.objects.filter(pk=word.pk).update(is_active=True)
        assert keywords_in("这是骗局") == [word]
        word.delete()
        assert keywords_in("这是骗局") == []

    def test_a_calendar_edit_renews_the_stamp_so_policies_carry_its_new_version(self):
        calendar = BusinessCalendar.objects.get(is_default=True)
        policies_in_order()
        before = config_stamp()
        calendar_changed(calendar.pk)
        assert config_stamp() != before
        calendar.refresh_from_db()
        assert {p.calendar.version for p in policies_in_order() if p.calendar_id == calendar.pk} == {calendar.version}

    def test_a_change_that_rolls_back_is_not_served_afterwards(self):
        urgent = durations()["urgent"]
        with pytest.raises(RuntimeError), transaction.atomic():
            SLAPolicy.objects.filter(is_fallback=True, priority="urgent").update(first_response_amount=urgent + 7)
            assert durations()["urgent"] == urgent + 7  # read, and kept, inside the transaction
            raise RuntimeError("rolled back")
        assert durations()["urgent"] == urgent
        # A later change of the same value is seen too: the rolled-back stamp is not reused.
        SLAPolicy.objects.filter(is_fallback=True, priority="urgent").update(first_response_amount=urgent + 7)
        assert durations()["urgent"] == urgent + 7


class TestEndpoints:
    def test_added_switched_off_and_resubscribed(self):
        assert endpoints_subscribed(["ticket.created"]) == []
        endpoint = WebhookEndpoint.objects.create(
            name="ERP", url="https://erp.example.com/hook", events=["ticket.created"]
        )
        assert endpoints_subscribed(["ticket.created"]) == [endpoint]
        assert endpoints_subscribed(["ticket.resolved"]) == []
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(events=["ticket.resolved"])
        assert endpoints_subscribed(["ticket.created"]) == []
        assert endpoints_subscribed(["ticket.resolved"]) == [endpoint]
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
        assert endpoints_subscribed(["ticket.resolved"]) == []

    def test_the_fan_outs_cursor_does_not_renew_the_stamp(self):
        endpoint = WebhookEndpoint.objects.create(
            name="ERP", url="https://erp.example.com/hook", events=["ticket.created"]
        )
        before = config_stamp()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(caught_up_to=41)
        assert config_stamp() == before


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_process_is_seen_on_the_next_read():
    urgent = durations()["urgent"]
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as other:
        other.execute(
            "UPDATE tickets_slapolicy SET first_response_amount = %s WHERE is_fallback AND priority = 'urgent'",
            [urgent + 3],
        )
        assert durations()["urgent"] == urgent  # not committed yet: not seen
    # Leaving the block committed it.
    assert durations()["urgent"] == urgent + 3
