"""A small marketplace for the API tests: two teams, each with an agent; a
manager; a merchant with a forwarded complaint; a ticket with a file; feedback
and a survey. Every caller has an API token (``world.keys``)."""

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from feedback.services import feedback_submit, survey_submit
from integrations.tokens import staff_token_create
from merchants.tokens import token_create
from tests.builders import ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tickets import services
from tickets.uploads import evidence_clean

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SH)


def png(name: str = "receipt.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@dataclass
class World:
    orders: object
    returns: object
    refund: object
    exchange: object
    agent: object
    other_agent: object
    manager: object
    merchant: object
    merchant_user: object
    mine: object  # a ticket of Orders (the agent's team), with a picture
    theirs: object  # a ticket of Returns
    resolved: object  # resolved, its survey answered
    keys: dict = field(default_factory=dict)

    def auth(self, who: str) -> dict:
        return bearer(self.keys[who]) if who in self.keys else {}


# The consumer behind the world's complaints (the API shows her contact in full to staff).
WANG = {"requester_name": "王女士", "requester_email": "wang@example.cn"}


@pytest.fixture
def world(db, agent, manager, team, category) -> World:
    returns_lead = UserFactory(username="returns-lead", groups=["supervisors"])
    other_agent = UserFactory(username="returns-agent", groups=["agents"])
    returns = TeamFactory(name="Returns", supervisors=[returns_lead], members=[other_agent])
    exchange = CategoryFactory(
        code="exchange", name_zh="换货", name_en="Exchange", default_priority="normal", team=returns
    )
    merchant = MerchantFactory(name="开心小店", shop_id="SHOP00042")
    merchant_user = MerchantUserFactory(merchant=merchant).user
    mine = ticket_filed(
        category, at=MON_10, **WANG, merchant=merchant, order_number="20269001", evidence=[evidence_clean(png())]
    )
    services.ticket_forward_to_merchant(ticket=mine, actor=agent, note="请回复", now=MON_10)
    theirs = ticket_filed(exchange, at=MON_10, **WANG, subject="换货太慢")
    resolved = ticket_filed(category, at=MON_10, **WANG, subject="已解决的问题")
    services.ticket_reply(ticket=resolved, author=agent, body="已为您退款。", now=MON_10)
    services.ticket_change_status(ticket=resolved, status="resolved", actor=agent, now=MON_10)
    survey_submit(ticket=resolved, rating=4, comment="还行", now=MON_10)
    feedback_submit(topic="site", body="App 太慢", contact="13812345678", language="zh-hans", now=MON_10)
    w = World(
        orders=team,
        returns=returns,
        refund=category,
        exchange=exchange,
        agent=agent,
        other_agent=other_agent,
        manager=manager,
        merchant=merchant,
        merchant_user=merchant_user,
        mine=mine,
        theirs=theirs,
        resolved=resolved,
    )
    for who, user in (("agent", agent), ("other_agent", other_agent), ("manager", manager)):
        w.keys[who] = staff_token_create(user=user, name=f"{who} tool")[1]
    w.keys["merchant"] = token_create(user=merchant_user, name="ERP")[1]
    return w
