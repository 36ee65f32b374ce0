"""A strike's reason is stored as a code with its parameters and read in the
reader's language: the admin's strikes in Chinese say which complaint went
unanswered in Chinese, in English in English; a reason recorded in words
before the codes shows its words."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from merchants.models import MerchantStrike
from tests.merchants.helpers import MON_10, forwarded, shop
from tests.tickets.admin_pages import url
from tickets.escalation import sla_sweep

pytestmark = pytest.mark.django_db


def reasons_listed(response) -> list[str]:
    """The "reason" column of the admin's list of strikes, top to bottom."""
    return re.findall(r'<td class="field-reason_display">([^<]*)</td>', response.content.decode())


def chinese(name: str, *args) -> str:
    with translation.override("zh-hans"):
        return reverse(f"admin:{name}", args=args)


@pytest.fixture
def missed(category, agent):
    """A complaint forwarded Mon 10:00 with 24 calendar hours to reply, unanswered
    when the sweep runs at Tue 10:00:01: the merchant's strike."""
    merchant, _user = shop()
    ticket = forwarded(category, merchant, agent, at=MON_10)
    assert sla_sweep(now=MON_10 + timedelta(hours=24, seconds=1))["merchant_missed"] == 1
    return MerchantStrike.objects.get(ticket=ticket)


def test_a_missed_reply_is_stored_as_a_code_with_the_complaints_reference(missed):
    assert (missed.reason, missed.params) == ("missed_reply", {"reference": missed.ticket.reference})
    with translation.override("en"):
        assert missed.reason_text == f"No reply to {missed.ticket.reference} within the deadline"
    with translation.override("zh-hans"):
        assert missed.reason_text == f"投诉 {missed.ticket.reference} 超时未回复"


def test_the_chinese_admin_gives_the_reason_in_chinese(admin_client, missed):
    reference = missed.ticket.reference

    listed = admin_client.get(chinese("merchants_merchantstrike_changelist"))
    page = admin_client.get(chinese("merchants_merchantstrike_change", missed.pk))

    assert reasons_listed(listed) == [f"投诉 {reference} 超时未回复"]
    assert f"投诉 {reference} 超时未回复" in page.content.decode()
    assert "within the deadline" not in page.content.decode()


def test_the_english_admin_gives_it_in_english(admin_client, missed):
    reference = missed.ticket.reference

    listed = admin_client.get(url("merchants_merchantstrike_changelist"))
    page = admin_client.get(url("merchants_merchantstrike_change", missed.pk))

    assert reasons_listed(listed) == [f"No reply to {reference} within the deadline"]
    assert f"No reply to {reference} within the deadline" in page.content.decode()


def test_a_reason_recorded_in_words_shows_its_words(admin_client, category, agent):
    # given a strike whose reason was a sentence the migration could not read
    merchant, _user = shop()
    ticket = forwarded(category, merchant, agent, at=MON_10)
    MerchantStrike.objects.create(
        merchant=merchant,
        ticket=ticket,
        target=ticket.targets.get(kind="merchant_reply"),
        reason=MerchantStrike.Reason.OTHER,
        params={"text": "No reply within 24 h"},
    )

    # then both admins show the words as they were recorded
    for changelist in (chinese("merchants_merchantstrike_changelist"), url("merchants_merchantstrike_changelist")):
        assert reasons_listed(admin_client.get(changelist)) == ["No reply within 24 h"]
