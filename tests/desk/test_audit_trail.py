"""The workspace's audit trail says what changed: a status or priority from → to,
who a ticket went from and to, the note sent to the merchant, why the sweep
moved it; in Chinese by default and in English on request."""

import html
import re
from datetime import timedelta

import pytest

from tests.merchants.helpers import MON_10, complaint, shop
from tickets import services
from tickets.escalation import sla_sweep

pytestmark = pytest.mark.django_db


def trail(page: str) -> list[str]:
    """The audit trail's entries as a person reads them, without the time."""
    section = page[page.index('class="card timeline"') :]
    entries = re.findall(r'<li class="ev-[a-z_0-9]+">(.*?)</li>', section, flags=re.S)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", entry)) for entry in entries]
    return [" ".join(text.split()[2:]) for text in texts]  # drop "11-23 10:00"


@pytest.fixture
def worked(category, agent, supervisor):
    """Filed Mon 09:00 about 快乐小店; the agent takes it, raises it to urgent and
    forwards it with a note at 10:00; the merchant's 24 hours pass unanswered."""
    merchant, _user = shop()
    ticket = complaint(category, merchant, at=MON_10 - timedelta(hours=1))
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent, now=MON_10 - timedelta(minutes=50))
    services.ticket_change_priority(ticket=ticket, priority="urgent", actor=agent, now=MON_10 - timedelta(minutes=40))
    services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请核实退款进度并回复顾客", now=MON_10)
    sla_sweep(now=MON_10 + timedelta(hours=25))
    return ticket


def test_each_change_says_from_what_to_what_who_and_why(client, agent, worked):
    client.force_login(agent)
    lines = trail(client.get(f"/desk/tickets/{worked.pk}/").content.decode())
    assert "已分配 · 无人 → agent · agent" in lines
    assert "优先级变更 · 普通 → 紧急 · agent" in lines
    assert "已转交商家 · 商家回复 · 快乐小店 · 备注：请核实退款进度并回复顾客 · agent" in lines
    assert "状态变更 · 新建 → 等待商家 · agent" in lines
    assert "SLA 目标已重新计算 · 首次响应 · 原因：优先级已变更 · agent" in lines
    # The sweep (no person) says why: the first response missed, the merchant silent.
    assert "已分配 · agent → supervisor · 原因：已超时" in lines
    assert "状态变更 · 等待商家 → 待处理 · 原因：商家未按时答复" in lines


def test_in_english(client, agent, worked):
    client.cookies["django_language"] = "en"
    client.force_login(agent)
    lines = trail(client.get(f"/en/desk/tickets/{worked.pk}/").content.decode())
    assert "Assigned · nobody → agent · agent" in lines
    assert "Priority changed · Normal → Urgent · agent" in lines
    assert "Forwarded to merchant · Merchant reply · 快乐小店 · note: 请核实退款进度并回复顾客 · agent" in lines
    assert "Status changed · Awaiting merchant → Open · reason: the merchant did not answer in time" in lines


def test_the_trail_costs_the_same_queries_however_many_people_it_names(client, agent, supervisor, team, worked):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory

    client.force_login(agent)
    with CaptureQueriesContext(connection) as before:
        client.get(f"/desk/tickets/{worked.pk}/")
    colleague = UserFactory(username="colleague", groups=["agents"])
    team.members.add(colleague)
    services.ticket_assign(ticket=worked, assignee=colleague, actor=supervisor)
    services.ticket_assign(ticket=worked, assignee=agent, actor=colleague)
    with CaptureQueriesContext(connection) as after:
        lines = trail(client.get(f"/desk/tickets/{worked.pk}/").content.decode())
    assert "已分配 · supervisor → colleague · supervisor" in lines and "已分配 · colleague → agent · colleague" in lines
    assert len(after) == len(before)


def test_a_label_is_followed_by_the_readers_colon(client, agent, worked):
    client.force_login(agent)
    assert "提交人：韩梅梅" in client.get(f"/desk/tickets/{worked.pk}/").content.decode()
    client.cookies["django_language"] = "en"
    assert "Requester: 韩梅梅" in client.get(f"/en/desk/tickets/{worked.pk}/").content.decode()
