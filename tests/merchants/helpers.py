"""Shared set-up for the merchant tests: a shop with its login, and complaints
filed and forwarded at chosen instants through the real services."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.builders import ticket_filed
from tests.factories import MerchantFactory, MerchantUserFactory, UserFactory
from tickets import services
from tickets.models import Ticket

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def shop(name: str = "快乐小店", username: str = "shopkeeper", **extra):
    merchant = MerchantFactory(name=name, **extra)
    user = UserFactory(username=username, is_staff=False, email=f"{username}@shop.example")
    MerchantUserFactory(user=user, merchant=merchant)
    return merchant, user


# 韩梅梅's complaint about a shop that does not answer.
MEIMEI = {
    "body": "买的衣服尺码不对，联系商家两天没人回。",
    "requester_name": "韩梅梅",
    "requester_phone": "13812345678",
    "requester_email": "meimei@example.cn",
    "order_number": "202611230042",
}


def complaint(category, merchant, *, at: datetime = MON_10, subject: str = "商家一直不回复", **extra) -> Ticket:
    """A complaint about ``merchant``, filed at ``at`` (``tests.builders.ticket_filed``)."""
    return ticket_filed(category, at=at, merchant=merchant, **(MEIMEI | {"subject": subject} | extra))


def forwarded(category, merchant, agent, *, at: datetime = MON_10, **extra) -> Ticket:
    """A complaint filed an hour before ``at`` and forwarded to the merchant at ``at``."""
    ticket = complaint(category, merchant, at=at - timedelta(hours=1), **extra)
    services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请 24 小时内答复", now=at)
    return ticket
