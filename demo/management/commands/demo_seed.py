"""Demo data for ``make run``: teams, categories, merchants, staff and merchant
logins, and a few hundred tickets in every state with a real SLA history (filed
in the past through the services, then swept). Idempotent: when the demo data
exists it only prints the logins again."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Merchant, MerchantUser
from feedback.services import feedback_submit, survey_submit
from merchants.penalties import merchants_daily
from merchants.risk import risk_signals_detect
from merchants.scoring import merchant_scores_compute
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import AlertKeyword, CannedAnswer, Category, StaffProfile, Team, Ticket
from tickets.services.chat import availability_set

PASSWORD = "demo-pass-2026"
LOGINS = [
    # username, role, groups, superuser
    ("admin", "administrator", [], True),
    ("agent", "agent", ["agents"], False),
    ("agent2", "agent", ["agents"], False),
    ("supervisor", "supervisor", ["agents", "supervisors"], False),
    ("manager", "manager", ["managers"], False),
    ("merchant", "merchant (好运来旗舰店)", [], False),
]
# The account appeals team and its category ship with the data (tickets 0018): reused here.
TEAMS = [
    ("订单与支付", "orders@cs-desk.example"),
    ("配送与退款", "delivery@cs-desk.example"),
    ("账号申诉", "appeals@cs-desk.example"),
    ("商家投诉", "merchants@cs-desk.example"),
]
CATEGORIES = [
    # code, zh, en, priority, team index
    ("order-error", "订单错误", "Order error", "urgent", 0),
    ("cannot-order", "无法下单", "Cannot place an order", "urgent", 0),
    ("paid-no-order", "已付款但无订单", "Payment taken but no order", "urgent", 0),
    ("fraud", "诈骗或安全问题", "Fraud or safety report", "urgent", 0),
    ("refund", "退款", "Refund", "normal", 1),
    ("delivery", "配送问题", "Delivery", "normal", 1),
    ("merchant-no-reply", "商家不回复", "Merchant not replying", "normal", 3),
    ("account-appeal", "账号限制申诉", "Account restriction appeal", "normal", 2),
    ("promotion-page", "助力/活动页面打不开", "Promotion / assist page will not open", "normal", 0),
    ("suggestion", "建议", "Suggestion", "low", 3),
    ("question", "一般咨询", "General question", "low", 1),
    ("other", "其他", "Other", "low", 1),
]
MERCHANTS = [
    ("SHOP10001", "好运来旗舰店"), ("SHOP10002", "晨光数码专营店"), ("SHOP10003", "江南丝绸坊"),
    ("SHOP10004", "小熊母婴用品"), ("SHOP10005", "老北京零食铺"), ("SHOP10006", "极速手机配件"),
    ("SHOP10007", "云南普洱茶庄"), ("SHOP10008", "潮流运动鞋城"), ("SHOP10009", "美家家居生活馆"),
    ("SHOP10010", "书香文具店"), ("SHOP10011", "鲜果直供园"), ("SHOP10012", "星空户外装备"),
]  # fmt: skip
ALERT_WORDS = ["诈骗", "骗子", "盗号", "冒充客服", "fraud", "scam"]
# title, language, is FAQ, text (with the variables the reply box fills in)
CANNED_ANSWERS = [
    (
        "首次答复：已受理",
        "zh-hans",
        False,
        "{consumer_name}您好，我是客服{agent_name}。您的投诉 {reference} 已受理，我们正在核实，"
        "将在 {promised_time} 前给您处理结果。",
    ),
    (
        "退款进度说明",
        "zh-hans",
        True,
        "{consumer_name}您好，退款会在商家确认后 1–3 个工作日原路退回；订单 {order_number} 的退款我们会持续跟进。",
    ),
    (
        "已催促商家",
        "zh-hans",
        False,
        "{consumer_name}您好，我们已将您的投诉转给{merchant}，商家须在 24 小时内答复，逾期平台将介入处理。",
    ),
    (
        "First reply: received",
        "en",
        False,
        "Dear {consumer_name}, this is {agent_name}. We have your complaint {reference} and will resolve it "
        "by {promised_time}.",
    ),
    (
        "Refund timeline",
        "en",
        True,
        "Dear {consumer_name}, refunds go back to the original payment method within 1–3 working days "
        "after the shop confirms them.",
    ),
]
NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐亮", "孙丽"]
SUBJECTS = {
    "order-error": ["订单金额显示错误", "下单后订单状态一直异常"],
    "cannot-order": ["提交订单时一直提示系统繁忙", "无法选择收货地址，下不了单"],
    "paid-no-order": ["付款成功但订单列表里没有", "扣款两次只有一个订单"],
    "fraud": ["有人冒充客服让我转账", "收到诈骗短信说订单异常"],
    "refund": ["退款七天了还没到账", "申请退款被商家拒绝"],
    "delivery": ["快递三天没有更新物流", "收到的商品破损"],
    "merchant-no-reply": ["商家两天不回复消息", "联系商家一直没人理"],
    "account-appeal": ["账号被限制登录，申请解封", "账号被误判为异常，无法下单"],
    "promotion-page": ["助力页面打不开", "砍价活动页面一直白屏"],
    "suggestion": ["建议增加夜间客服", "希望能按品牌筛选商品"],
    "question": ["如何修改收货地址", "发票怎么开"],
    "other": ["App 闪退", "优惠券用不了"],
}


SURVEY_COMMENTS = {
    5: ["客服很耐心，问题当天就解决了", "退款很快到账，谢谢小美", "处理得很专业"],
    4: ["解决了，但等了两天", "还行，希望下次快一点"],
    3: ["问题解决了，沟通有点慢", "一般"],
    2: ["等了太久才有人回复", "要我重复说明了好几次"],
    1: ["商家一直不回，客服也没办法", "问题根本没解决就关单了"],
}
FEEDBACK = [
    ("site", "App 的订单页面加载太慢，经常转圈", "13800001111"),
    ("promotions", "助力活动的页面在微信里打不开，希望修复", ""),
    ("service", "希望客服晚上 10 点以后也能在线", "fan.li@example.cn"),
    ("merchants", "希望能看到商家的平均回复时间再下单", ""),
    ("site", "收到冒充客服的短信让我退款，是不是诈骗？", "13900002222"),
    ("shopping", "退货运费险的说明写得不清楚", ""),
    ("other", "建议增加繁体中文界面", ""),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=300)

    def handle(self, *args, tickets, **options):
        if Ticket.objects.exists():
            self.stdout.write("Demo data already present.")
        else:
            started = timezone.now()
            self._seed(tickets)
            elapsed = (timezone.now() - started).total_seconds()
            self.stdout.write(f"Demo data loaded in {elapsed:.1f} s: {Ticket.objects.count()} tickets.")
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for username, role, _groups, _superuser in LOGINS:
            self.stdout.write(f"  {username:<11} {role}")

    @transaction.atomic
    def _seed(self, count: int) -> None:
        rng = random.Random(2026)
        User = get_user_model()
        users = {}
        for username, _role, groups, superuser in LOGINS:
            user = User.objects.create_user(
                username=username, password=PASSWORD, email=f"{username}@cs-desk.example",
                is_staff=username != "merchant", is_superuser=superuser,
            )  # fmt: skip
            user.groups.set(Group.objects.filter(name__in=groups))
            users[username] = user
        StaffProfile.objects.create(user=users["agent"], alias="小美")
        StaffProfile.objects.create(user=users["agent2"], alias="Alex", language="en")
        # 小美 takes chats from the start (a chat from /chat/ is offered to her); Alex is away.
        availability_set(user=users["agent"], status="online", capacity=3)
        availability_set(user=users["agent2"], status="away")
        AlertKeyword.objects.bulk_create([AlertKeyword(word=w) for w in ALERT_WORDS])
        CannedAnswer.objects.bulk_create(
            [
                CannedAnswer(title=title, language=language, is_faq=faq, body=body, created_by=users["supervisor"])
                for title, language, faq, body in CANNED_ANSWERS
            ]
        )
        teams = []
        for name, email in TEAMS:
            team, _created = Team.objects.update_or_create(name=name, defaults={"email": email})
            team.members.set([users["agent"], users["agent2"], users["supervisor"]])
            team.supervisors.set([users["supervisor"]])
            teams.append(team)
        categories = [
            Category.objects.update_or_create(
                code=code,
                defaults={"sort_order": i},  # a shipped category (account-appeal) is kept, put in the demo's order
                create_defaults={
                    "name_zh": zh, "name_en": en, "default_priority": priority, "team": teams[team], "sort_order": i,
                },
            )[0]
            for i, (code, zh, en, priority, team) in enumerate(CATEGORIES)
        ]  # fmt: skip
        now = timezone.now()
        merchants = [
            Merchant.objects.create(
                shop_id=shop_id, name=name, contact_name="店长", contact_phone=f"1380000{i:04d}",
                contact_email=f"{shop_id.lower()}@shop.example", legal_entity=f"{name[:4]}商贸有限公司",
                created_at=now - timedelta(days=400 - 30 * i),
                verification="verified" if i < 10 else "pending",
            )
            for i, (shop_id, name) in enumerate(MERCHANTS)
        ]  # fmt: skip
        # Two shops registered with one phone: the daily risk job flags them.
        Merchant.objects.filter(pk=merchants[11].pk).update(contact_phone=merchants[10].contact_phone)
        MerchantUser.objects.create(user=users["merchant"], merchant=merchants[0])
        shop_users = {merchants[0].pk: users["merchant"]}
        for merchant in merchants[1:]:
            shop_user = User.objects.create_user(username=f"shop-{merchant.shop_id.lower()}", password=None)
            MerchantUser.objects.create(user=shop_user, merchant=merchant)
            shop_users[merchant.pk] = shop_user
        agents = [users["agent"], users["agent2"], users["supervisor"]]

        outcomes = ["new", "open", "open", "awaiting_merchant", "pending", "resolved", "resolved", "closed"]
        for i in range(count):
            category = rng.choice(categories)
            filed = now - timedelta(minutes=rng.randint(30, 20 * 24 * 60))
            merchant = rng.choice(merchants) if rng.random() < 0.6 else None
            ticket = services.ticket_create(
                category=category,
                subject=rng.choice(SUBJECTS[category.code]),
                body="您好，" + rng.choice(SUBJECTS[category.code]) + "，请尽快帮我处理，谢谢。",
                requester_name=rng.choice(NAMES),
                requester_phone=f"13{rng.randint(100000000, 999999999)}",
                requester_email=f"consumer{i}@example.cn" if rng.random() < 0.5 else "",
                channel=rng.choice(["web", "web", "web", "app", "chat", "phone", "email"]),
                merchant=merchant,
                order_number=f"2026{rng.randint(10**11, 10**12 - 1)}" if rng.random() < 0.7 else "",
                now=filed,
            )
            outcome = rng.choice(outcomes)
            if outcome == "awaiting_merchant" and merchant is None:
                outcome = "open"
            step = filed
            agent = rng.choice(agents)

            def later(hours: float):
                nonlocal step
                step = min(step + timedelta(hours=hours), now - timedelta(minutes=1))
                return step

            if outcome != "new":
                services.ticket_assign(ticket=ticket, assignee=agent, actor=agent, now=later(0.2))
                services.ticket_reply(
                    ticket=ticket, author=agent, body="已核实订单信息，正在与支付渠道确认。", public=False,
                    now=later(0.5),
                )  # fmt: skip
                services.ticket_reply(
                    ticket=ticket, author=agent, body="您好，我们已收到您的反馈，正在为您处理。",
                    now=later(rng.uniform(1, 30)),
                )  # fmt: skip
            if outcome == "awaiting_merchant":
                services.ticket_forward_to_merchant(
                    ticket=ticket, actor=agent, note="请商家核实并回复消费者。", now=later(1)
                )
                # Most shops answer, some in time and some not; the rest are left to the sweep.
                if rng.random() < 0.6 and step < now - timedelta(hours=2):
                    services.ticket_merchant_reply(
                        ticket=ticket, author=shop_users[merchant.pk],
                        body="您好，非常抱歉给您带来不便，我们已核实并为您补发，请留意物流信息。",
                        now=later(rng.choice([0.5, 3, 10, 20, 30])),
                    )  # fmt: skip
            elif outcome == "pending":
                services.ticket_change_status(ticket=ticket, status="pending", actor=agent, now=later(1))
            elif outcome in ("resolved", "closed"):
                if rng.random() < 0.5:
                    services.ticket_consumer_message(ticket=ticket, body="好的，谢谢，请尽快。", now=later(2))
                    services.ticket_reply(ticket=ticket, author=agent, body="已为您处理完毕。", now=later(3))
                services.ticket_change_status(ticket=ticket, status=outcome, actor=agent, now=later(4))
                # Most consumers rate the resolution (the satisfaction report).
                if rng.random() < 0.7:
                    rating = rng.choices([5, 4, 3, 2, 1], weights=[45, 25, 12, 10, 8])[0]
                    survey_submit(
                        ticket=ticket, rating=rating,
                        comment=rng.choice(SURVEY_COMMENTS[rating]) if rng.random() < 0.6 else "",
                        now=later(rng.uniform(1, 20)),
                    )  # fmt: skip

        # A few urgent tickets about to breach, so a visitor sees them escalate live.
        urgent = next(c for c in categories if c.code == "paid-no-order")
        for minutes in (2, 4, 6):
            services.ticket_create(
                category=urgent, subject="付款成功但订单列表里没有（演示：即将超时）", body="付了 299 元，没有订单。",
                requester_name="演示用户", requester_phone="13912345678",
                now=now - timedelta(hours=24) + timedelta(minutes=minutes),
            )  # fmt: skip
        # Complaints the demo merchant can answer now, before their deadline.
        shop = merchants[0]
        no_reply = next(c for c in categories if c.code == "merchant-no-reply")
        for hours_ago, subject in ((2, "商家承诺的赠品没有发货"), (20, "商品与描述不符，联系客服无人回复")):
            ticket = services.ticket_create(
                category=no_reply, subject=subject, body=f"{subject}，请商家尽快处理。", requester_name="李娜",
                requester_phone="13800138000", merchant=shop, order_number="202611230001",
                now=now - timedelta(hours=hours_ago + 1),
            )  # fmt: skip
            services.ticket_forward_to_merchant(
                ticket=ticket,
                actor=users["agent"],
                note="请在 24 小时内答复消费者。",
                now=now - timedelta(hours=hours_ago),
            )
        # The demo shop's history: two answered in time, two deadlines missed (strikes, then a warning).
        for days_ago, reply_after in ((12, 3), (9, 5), (6, None), (4, None)):
            forwarded = now - timedelta(days=days_ago)
            ticket = services.ticket_create(
                category=no_reply, subject="退货后迟迟没有退款", body="退货已签收一周，还没有退款。",
                requester_name="王强", requester_phone="13700137000", merchant=shop,
                now=forwarded - timedelta(hours=1),
            )  # fmt: skip
            services.ticket_forward_to_merchant(ticket=ticket, actor=users["agent"], now=forwarded)
            if reply_after:
                services.ticket_merchant_reply(
                    ticket=ticket, author=users["merchant"], body="已为您办理退款，预计 1–3 个工作日到账。",
                    now=forwarded + timedelta(hours=reply_after),
                )  # fmt: skip
            else:
                sla_sweep(now=forwarded + timedelta(hours=25))
        sla_sweep(now=now)
        # The merchants' score history (the trend) and today's ladder and signals.
        for days_ago in range(29, 0, -1):
            merchant_scores_compute(now=now - timedelta(days=days_ago))
        merchants_daily(now=now)
        risk_signals_detect(now=now)
        # Suggestions from the public feedback form (the managers' feedback inbox).
        for hours_ago, (topic, body, contact) in zip((3, 20, 40, 75, 120, 200, 300), FEEDBACK, strict=True):
            feedback_submit(topic=topic, body=body, contact=contact, language="zh-hans",
                            now=now - timedelta(hours=hours_ago))  # fmt: skip
