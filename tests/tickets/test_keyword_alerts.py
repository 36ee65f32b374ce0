"""tickets.services.alerts: an alert word in any consumer message — not only the
complaint — flags the ticket, raises it to urgent and tells the team's
supervisors, once a day per word and ticket (the Beijing day). From the outside:
the tracking page and the consumer API (both call ticket_consumer_message, as
the mail and chat channels will), the outbox and the ticket's events."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from feedback.models import KeywordHit
from tests.builders import ticket_filed
from tickets import services
from tickets.models import AlertKeyword, Notification, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")

# Wednesday 2026-11-18 10:00 in Beijing, an ordinary working week (no holiday in
# November): the complaint is filed then, as normal priority.
FILED = datetime(2026, 11, 18, 10, 0, tzinfo=SH)
# Thursday 10:30 and 15:00, the same Beijing day; Friday 09:00, the next one.
THU_1030 = datetime(2026, 11, 19, 10, 30, tzinfo=SH)
THU_1500 = datetime(2026, 11, 19, 15, 0, tzinfo=SH)
FRI_0900 = datetime(2026, 11, 20, 9, 0, tzinfo=SH)


def page_post(client, ticket: Ticket, body: str) -> None:
    """The consumer writes on the tracking page (the real view)."""
    response = client.post(f"/t/{ticket.tracking_token}/", {"body": body})
    assert response.status_code == 302


def api_post(client, ticket: Ticket, body: str) -> None:
    """The consumer writes through the tracking API."""
    response = client.post(
        f"/api/v1/track/{ticket.tracking_token}/messages", json.dumps({"body": body}), content_type="application/json"
    )
    assert response.status_code == 201, response.content


DOORS = [pytest.param(page_post, id="tracking-page"), pytest.param(api_post, id="api")]


def alerts(ticket: Ticket) -> list[dict]:
    return [e.data for e in ticket.events.filter(kind=TicketEvent.Kind.KEYWORD_ALERT).order_by("created_at", "id")]


def notices() -> list[tuple[str, str]]:
    """The keyword alerts in the outbox (at filing, and on a later message): (recipient,
    subject), oldest first."""
    kinds = ["keyword_alert", "keyword_alert_message"]
    return list(Notification.objects.filter(kind__in=kinds).order_by("id").values_list("recipient", "subject"))


@pytest.fixture
def fraud():
    return AlertKeyword.objects.create(word="诈骗")


@pytest.fixture
def theft():
    return AlertKeyword.objects.create(word="盗号")


@pytest.fixture
def filed(category):
    """A refund complaint with no alert word, filed on Wednesday at 10:00."""
    return ticket_filed(category, at=FILED)


@pytest.mark.parametrize("write", DOORS)
def test_a_follow_up_at_each_door_alerts_once_a_day_per_word(client, write, filed, fraud, theft, supervisor):
    # Given a normal complaint with no alert word: nothing flagged, nobody told.
    assert not filed.is_flagged and filed.priority == "normal" and not notices()

    # When the consumer writes 诈骗 on Thursday morning
    with time_machine.travel(THU_1030, tick=False):
        write(client, filed, "客服你好，对方冒充平台工作人员诈骗我，让我转账。")
    # then the ticket is flagged and urgent, the hit recorded, the supervisor told.
    filed.refresh_from_db()
    assert filed.is_flagged and filed.priority == "urgent"
    assert alerts(filed) == [{"words": ["诈骗"], "keyword_ids": [fraud.pk]}]
    assert list(KeywordHit.objects.values_list("ticket_id", "keyword_id")) == [(filed.pk, fraud.pk)]
    [(recipient, subject)] = notices()
    assert recipient == supervisor.email and filed.reference in subject and "诈骗" in subject
    assert "用户新消息" in subject  # not "a new complaint": the consumer wrote again
    raised = filed.events.get(kind=TicketEvent.Kind.PRIORITY_CHANGED)
    assert raised.data == {"from": "normal", "to": "urgent", "reason": "keyword"}
    assert raised.created_at == THU_1030

    # The same word again the same afternoon: the message is kept, no new alert.
    with time_machine.travel(THU_1500, tick=False):
        write(client, filed, "还是那个诈骗的人，又打电话来了。")
    assert filed.messages.filter(body__startswith="还是那个").exists()
    assert len(alerts(filed)) == 1 and len(notices()) == 1
    assert KeywordHit.objects.count() == 1

    # A different word the same afternoon is news: alerted, and only it is named.
    with time_machine.travel(THU_1500 + timedelta(minutes=5), tick=False):
        write(client, filed, "我的账号也被盗号了，骗子还在诈骗我的朋友。")
    assert alerts(filed)[1:] == [{"words": ["盗号"], "keyword_ids": [theft.pk]}]
    assert len(notices()) == 2 and "盗号" in notices()[1][1] and "诈骗" not in notices()[1][1]
    assert sorted(KeywordHit.objects.values_list("keyword_id", flat=True)) == sorted([fraud.pk, theft.pk])

    # The next day the same word alerts again; the ticket is urgent already, so no
    # second raise, and the hit stays one per ticket and word.
    with time_machine.travel(FRI_0900, tick=False):
        write(client, filed, "今天又有人以退款为由诈骗。")
    assert alerts(filed)[2:] == [{"words": ["诈骗"], "keyword_ids": [fraud.pk]}]
    assert len(notices()) == 3
    assert filed.events.filter(kind=TicketEvent.Kind.PRIORITY_CHANGED).count() == 1
    assert KeywordHit.objects.count() == 2


def test_a_word_alerted_at_intake_is_not_alerted_again_that_day(category, fraud, supervisor):
    # Filed with 诈骗 on Wednesday at 10:00: alerted at intake, as before.
    ticket = ticket_filed(category, at=FILED, body="有人冒充客服诈骗。")
    assert len(alerts(ticket)) == 1 and len(notices()) == 1
    # The consumer repeats it at 17:00: already alerted on this ticket today.
    services.ticket_consumer_message(ticket=ticket, body="骗子还在诈骗。", now=FILED + timedelta(hours=7))
    assert len(alerts(ticket)) == 1 and len(notices()) == 1
    # Thursday: a new day, alerted again.
    services.ticket_consumer_message(ticket=ticket, body="今天又被诈骗了。", now=THU_1030)
    assert len(alerts(ticket)) == 2 and len(notices()) == 2


def test_the_day_is_the_beijing_day_not_the_utc_day(filed, fraud):
    # Thursday 07:30 in Beijing is Wednesday 23:30 UTC; Thursday 23:30 in Beijing
    # is Thursday 15:30 UTC: two UTC days, one Beijing day, so one alert.
    services.ticket_consumer_message(ticket=filed, body="诈骗", now=datetime(2026, 11, 19, 7, 30, tzinfo=SH))
    services.ticket_consumer_message(ticket=filed, body="诈骗", now=datetime(2026, 11, 19, 23, 30, tzinfo=SH))
    assert len(alerts(filed)) == 1
    # Friday 00:10 in Beijing (still Thursday 16:10 UTC) is a new Beijing day.
    services.ticket_consumer_message(ticket=filed, body="诈骗", now=datetime(2026, 11, 20, 0, 10, tzinfo=SH))
    assert len(alerts(filed)) == 2


def test_the_raise_keeps_a_running_target_and_applies_to_those_opened_after(filed, fraud, agent):
    # Filed on Wednesday 10:00 as normal: the first response is due in 3 working
    # days of 9 business hours (09:00-18:00), 27 hours: Wednesday 10:00-18:00 is
    # 8, Thursday 9 (17), Friday 9 (26), Monday 09:00-10:00 the last one: due
    # Monday 2026-11-23 10:00. Under the urgent policy (24 calendar hours from the
    # start) it would have been due Thursday 10:00, before the follow-up at 10:30:
    # re-dating it would breach it on the spot.
    first = filed.targets.get(kind="first_response")
    resolution = filed.targets.get(kind="resolution")
    assert first.due_at == datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    resolution_due = resolution.due_at

    services.ticket_consumer_message(ticket=filed, body="对方在诈骗我！", now=THU_1030)

    filed.refresh_from_db()
    first.refresh_from_db()
    resolution.refresh_from_db()
    assert filed.priority == "urgent"
    assert first.due_at == datetime(2026, 11, 23, 10, 0, tzinfo=SH) and first.status == "running"
    assert resolution.due_at == resolution_due
    assert not filed.is_overdue and filed.due_at == first.due_at
    assert not filed.events.filter(kind=TicketEvent.Kind.TARGET_RECOMPUTED).exists()

    # The agent answers (the first response is met); the consumer's next message
    # with a new alert word opens a next response under the urgent policy: 24
    # calendar hours from Thursday 15:00, due Friday 15:00.
    AlertKeyword.objects.create(word="盗号")
    services.ticket_reply(ticket=filed, author=agent, body="我们正在核实。", now=THU_1500 - timedelta(hours=1))
    services.ticket_consumer_message(ticket=filed, body="现在又被盗号了。", now=THU_1500)
    following = filed.targets.get(kind="next_response")
    assert following.due_at == datetime(2026, 11, 20, 15, 0, tzinfo=SH)
    assert following.duration == timedelta(hours=24)


def test_a_message_without_alert_words_changes_nothing(filed, fraud):
    services.ticket_consumer_message(ticket=filed, body="请问退款什么时候到账？", now=THU_1030)
    filed.refresh_from_db()
    assert not filed.is_flagged and filed.priority == "normal"
    assert not alerts(filed) and not notices() and not KeywordHit.objects.exists()
