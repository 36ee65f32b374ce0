"""Reading one raw message (mail.parsing.mail_parse), from the bytes real clients send
(tests.mail.corpus) to what the pipeline and an agent rely on: the decoded subject,
the reply without its quoted history, the attachments, and whether the message must
not be answered or its sender not believed."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.parsing import Attachment, MailUnreadable, ParsedMail, mail_parse
from tests.mail import corpus

# The corpus's Date, "Mon, 30 Nov 2026 10:00:00 +0800", is 02:00 UTC.
SENT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


# --- charsets and transfer encodings ----------------------------------------


def test_plain_utf8_message_gives_its_envelope_and_text():
    raw = corpus.plain_utf8(
        sender="ZhangSan@QQ.com",
        to="客服中心 <Support@CS-Desk.example>",
        message_id="m1@qq.com",
        in_reply_to="t123.1@cs-desk.example",
        headers={"Cc": "lisi@163.com", "Delivered-To": "Reply+T123@cs-desk.example", "Reply-To": "zs@qq.com"},
    )

    mail = mail_parse(raw)

    assert mail.message_id == "m1@qq.com"
    assert (mail.from_address, mail.from_name) == ("zhangsan@qq.com", "张三")
    assert mail.to == ("support@cs-desk.example", "lisi@163.com")
    assert mail.delivered_to == ("reply+t123@cs-desk.example",)
    assert mail.reply_to == "zs@qq.com"
    assert mail.in_reply_to == mail.references == ("t123.1@cs-desk.example",)
    assert mail.return_path is None
    assert mail.subject == "订单一直没有发货"
    assert mail.date == SENT and mail.date.tzinfo is not None
    assert mail.text == mail.reply == "你好，我的订单三天了还没有发货。"
    assert (mail.attachments, mail.automatic, mail.auth_failed) == ((), "", ())
    assert mail.size == len(raw)


def test_gbk_body_and_encoded_word_subject_are_decoded():
    raw = corpus.gbk()
    assert b"=?gbk?" in raw.lower() and b'charset="gbk"' in raw  # what Foxmail sends

    mail = mail_parse(raw)

    assert mail.subject == "退款七天没到账"
    assert mail.text == "申请退款七天了还没有到账，请尽快处理。"


def test_gb2312_declared_with_gb18030_characters_reads_them_all():
    mail = mail_parse(corpus.gb2312_with_gb18030_characters())

    assert mail.subject == "吉祥物𠮷的订单"
    assert mail.text == "我买的“𠮷”字T恤⺀没收到，订单号 E20261130001。"


def test_big5_with_hong_kong_characters():
    mail = mail_parse(corpus.big5())

    assert mail.subject == "訂單問題"
    assert mail.text == "唔該，我嘅訂單冇到㗎，請幫忙查一下。"


def test_html_only_mail_becomes_text_without_scripts_styles_or_markup():
    mail = mail_parse(corpus.html_only())

    assert mail.text == "您好，\n\n我的退款还没有到账 & 订单号 E1。\n  * 申请日期：11月20日\n\n谢谢！"
    assert "alert" not in mail.text and "color" not in mail.text and "<" not in mail.text
    assert mail.reply == mail.text


@pytest.mark.parametrize(
    ("build", "encoding", "text"),
    [
        (corpus.quoted_printable, b"quoted-printable", "快递单号 SF1234567890，物流五天没有更新了。"),
        (corpus.base64_body, b"base64", "提交订单时一直显示“系统繁忙”，无法下单。"),
    ],
)
def test_transfer_encodings(build, encoding, text):
    raw = build()
    assert b"Content-Transfer-Encoding: " + encoding in raw

    assert mail_parse(raw).text == text


def test_unknown_or_lying_charset_falls_back_without_raising():
    utf8_declared_gbk = corpus.plain_utf8(body="x").replace(b'charset="utf-8"', b'charset="x-unknown-charset"')
    gbk_declared_utf8 = corpus.gbk().replace(b'charset="gbk"', b'charset="utf-8"')

    assert mail_parse(utf8_declared_gbk).text == "x"
    assert (
        mail_parse(gbk_declared_utf8).text == "申请退款七天了还没有到账，请尽快处理。"
    )  # utf-8 fails, gb18030 reads it


def test_a_multipart_without_its_boundary_keeps_its_text():
    raw = corpus.plain_utf8().replace(b'Content-Type: text/plain; charset="utf-8"', b"Content-Type: multipart/mixed")

    assert mail_parse(raw).text == "你好，我的订单三天了还没有发货。"


# --- the reply: quoted history and signatures ---------------------------------


def test_foxmail_qq_reply_keeps_only_the_new_text():
    mail = mail_parse(corpus.foxmail_reply())

    assert mail.subject == "回复：[#T-123] 退款七天没到账"
    assert mail.reply == "好的，订单号是 E20261130001。"
    assert "原始邮件" in mail.text and "请提供订单号" in mail.text  # the whole text stays for staff


def test_outlook_reply_keeps_only_the_new_text():
    mail = mail_parse(corpus.outlook_reply())

    assert mail.subject == "答复: [#T-123] 退款七天没到账"
    assert mail.reply == "款项今天已经收到，谢谢。"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_gmail_reply_keeps_only_the_new_text(language):
    mail = mail_parse(corpus.gmail_reply(language=language))

    assert mail.reply == "还是没有收到，麻烦再查一下。"


def test_html_only_reply_keeps_only_the_new_text():
    mail = mail_parse(corpus.gmail_html_reply())

    assert mail.reply == "还是没有收到。"
    assert "退款已于今日原路退回" in mail.text


def test_apple_reply_drops_the_phone_signature_and_history():
    mail = mail_parse(corpus.apple_reply())

    assert mail.reply == "收到，谢谢！"


@pytest.mark.parametrize("style", ["gmail", "gmail_zh", "qq"])
def test_forward_keeps_the_forwarded_message(style):
    mail = mail_parse(corpus.forwarded(style=style))

    assert mail.reply.startswith("请看商家的回复，他们拒绝退款。")
    assert mail.reply.endswith(corpus.FORWARDED_TEXT)
    assert "shop@tmall.example" in mail.reply


def test_signature_after_dash_dash_is_dropped_and_lists_are_kept():
    mail = mail_parse(corpus.signature())

    assert mail.reply == "以下订单都没有发货：\n- E20261130001\n- E20261130002\n谢谢，\n张三"
    assert "138 1234 5678" in mail.text


def test_a_message_that_is_all_quote_keeps_its_text_as_the_reply():
    mail = mail_parse(corpus.plain_utf8(body="> 您好，退款已于今日原路退回。"))

    assert mail.reply == "> 您好，退款已于今日原路退回。"


# --- must not be answered --------------------------------------------------------


def test_auto_reply_with_auto_submitted():
    assert mail_parse(corpus.auto_reply()).automatic == "auto_reply"


@pytest.mark.parametrize(
    "subject",
    ["自动回复：[#T-123] 退款", "自动答复: 退款", "Out of Office: 退款", "Automatic reply: 退款", "Out of Office"],
)
def test_out_of_office_known_by_its_subject_alone(subject):
    assert mail_parse(corpus.out_of_office(subject=subject)).automatic == "auto_reply"


def test_asking_for_no_auto_responses_is_not_itself_automatic():
    mail = mail_parse(corpus.plain_utf8(subject="Out of office hours?", headers={"X-Auto-Response-Suppress": "All"}))

    assert mail.automatic == ""


@pytest.mark.parametrize(
    "headers", [{"X-Autoreply": "yes"}, {"X-Autorespond": "vacation"}, {"Precedence": "auto_reply"}]
)
def test_other_auto_reply_markers(headers):
    assert mail_parse(corpus.plain_utf8(headers=headers)).automatic == "auto_reply"


def test_auto_submitted_no_is_a_person():
    assert mail_parse(corpus.plain_utf8(headers={"Auto-Submitted": "no"})).automatic == ""


def test_dsn_bounce():
    mail = mail_parse(corpus.bounce())

    assert mail.automatic == "bounce"
    assert mail.return_path == ""
    assert "could not be delivered" in mail.text


@pytest.mark.parametrize(
    "envelope",
    [
        {"sender": "notify@mx.qq.com", "headers": {"Return-Path": None}},  # the report alone
        {"sender": "postmaster@163.com", "headers": {"Return-Path": None}},
        {"sender": "MAILER-DAEMON@mx.qq.com", "headers": {"Return-Path": "<bounces@mx.qq.com>"}},
    ],
)
def test_bounce_known_by_each_sign(envelope):
    assert mail_parse(corpus.bounce(**envelope)).automatic == "bounce"


def test_null_return_path_alone_is_a_bounce():
    mail = mail_parse(corpus.plain_utf8(headers={"Return-Path": "<>"}))

    assert (mail.return_path, mail.automatic) == ("", "bounce")


def test_list_mail():
    assert mail_parse(corpus.list_mail()).automatic == "list"


@pytest.mark.parametrize("headers", [{"Precedence": "bulk"}, {"List-Unsubscribe": "<mailto:u@list.example>"}])
def test_bulk_and_unsubscribable_mail_is_list_mail(headers):
    assert mail_parse(corpus.plain_utf8(headers=headers)).automatic == "list"


# --- attachments ---------------------------------------------------------------------


@pytest.mark.parametrize("naming", ["rfc2231", "encoded_word"])
def test_screenshot_with_a_chinese_file_name(naming):
    raw = corpus.screenshot(naming=naming)

    mail = mail_parse(raw)

    assert mail.attachments == (Attachment("截图.png", "image/png", corpus.png_bytes()),)
    assert mail.text == "商家的聊天截图见附件。"


def test_inline_image_of_the_html_alternative_is_an_attachment_and_the_plain_text_the_body():
    mail = mail_parse(corpus.html_with_inline_image())

    assert mail.text == "请看下图："
    assert [(a.filename, a.content_type, a.content) for a in mail.attachments] == [
        ("截图.png", "image/png", corpus.png_bytes())
    ]


def test_pdf_attachment():
    mail = mail_parse(corpus.pdf())

    assert mail.attachments == (Attachment("退款凭证.pdf", "application/pdf", corpus.pdf_bytes()),)


def test_executable_is_handed_over_for_the_pipeline_to_refuse():
    mail = mail_parse(corpus.exe())

    assert mail.attachments == (Attachment("发票.exe", "application/octet-stream", corpus.EXE_BYTES),)
    assert mail.text == "发票在附件里，请查收。"


def test_a_file_name_with_a_path_keeps_only_the_name():
    mail = mail_parse(corpus.screenshot(filename="..\\..\\Windows\\截图.png"))

    assert [a.filename for a in mail.attachments] == ["截图.png"]


# --- identity ------------------------------------------------------------------------------


def test_message_without_message_id():
    assert mail_parse(corpus.without_message_id()).message_id == ""


def test_dmarc_failure_is_reported():
    raw = corpus.authenticated(
        results=("mx.cs-desk.example; spf=pass smtp.mailfrom=qq.com; dkim=none (no signature); dmarc=fail (p=reject)",)
    )

    assert mail_parse(raw).auth_failed == ("dmarc",)


def test_all_pass_reports_nothing():
    assert mail_parse(corpus.authenticated()).auth_failed == ()


def test_failures_of_every_instance_count_and_a_forged_pass_clears_none():
    raw = corpus.authenticated(
        results=(
            "mx.cs-desk.example; spf=softfail smtp.mailfrom=qq.com; dkim=fail header.d=qq.com",
            "evil.example; spf=pass; dkim=pass; dmarc=pass",  # the sender's own, forged
        )
    )

    assert mail_parse(raw).auth_failed == ("spf", "dkim")


def test_a_passing_dkim_signature_outweighs_a_broken_one_in_the_same_header():
    raw = corpus.authenticated(
        results=("mx.cs-desk.example; dkim=fail header.d=list.example; dkim=pass header.d=qq.com",)
    )

    assert mail_parse(raw).auth_failed == ()


@pytest.mark.parametrize(
    "sender_header",
    [
        "alice@example.org)<zhangsan@qq.com>",  # read one way by one parser, another by the other (CVE-2023-27043)
        "zhangsan@qq.com, lisi@qq.com",
    ],
)
def test_an_ambiguous_from_identifies_nobody(sender_header):
    raw = corpus.plain_utf8(headers={"From": sender_header})

    assert mail_parse(raw).from_address == ""


def test_two_from_headers_identify_nobody():
    raw = b"From: mallory@evil.example\r\n" + corpus.plain_utf8()

    assert mail_parse(raw).from_address == ""


# --- not a message, and anything at all -------------------------------------------------


@pytest.mark.parametrize("raw", [corpus.garbage(), b"", b"\r\n\r\njust text, no header", b"hello: world\r\n\r\nhi"])
def test_bytes_that_are_no_email_are_unreadable(raw):
    with pytest.raises(MailUnreadable) as refused:
        mail_parse(raw)

    assert refused.value.code == "no_header"


def test_mime_nested_beyond_the_parser_is_unreadable():
    raw = b"From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    raw += b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(2000))

    with pytest.raises(MailUnreadable) as refused:
        mail_parse(raw)

    assert refused.value.code == "too_deep"


CORPUS = [
    corpus.plain_utf8(),
    corpus.gbk(),
    corpus.big5(),
    corpus.html_only(),
    corpus.foxmail_reply(),
    corpus.bounce(),
    corpus.screenshot(naming="encoded_word"),
    corpus.html_with_inline_image(),
    corpus.authenticated(),
]
HEADERS = ["From", "To", "Subject", "Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "Date"]
HEADERS += ["Message-ID", "References", "Return-Path", "Authentication-Results", "Auto-Submitted", "List-Id"]


@st.composite
def mutated_mail(draw) -> bytes:
    """A real message with a few bytes changed, inserted or cut."""
    raw = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["replace", "insert", "cut"]))
        chunk = draw(st.binary(min_size=1, max_size=16))
        if action == "replace":
            raw[at : at + len(chunk)] = chunk
        elif action == "insert":
            raw[at:at] = chunk
        else:
            del raw[at : at + len(chunk)]
    return bytes(raw)


@st.composite
def headers_of_anything(draw) -> bytes:
    """Known header names with arbitrary values, then an arbitrary body."""
    lines = draw(st.lists(st.tuples(st.sampled_from(HEADERS), st.binary(max_size=80)), min_size=1, max_size=8))
    body = draw(st.binary(max_size=300))
    return b"".join(name.encode() + b": " + value + b"\r\n" for name, value in lines) + b"\r\n" + body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), mutated_mail(), headers_of_anything()))
def test_any_bytes_give_a_parsed_mail_or_unreadable(raw):
    try:
        mail = mail_parse(raw)
    except MailUnreadable:
        return
    assert isinstance(mail, ParsedMail)
    for field in fields(ParsedMail):
        value = getattr(mail, field.name)
        if field.name in ("to", "delivered_to", "in_reply_to", "references", "auth_failed"):
            assert all(isinstance(v, str) and "\x00" not in v for v in value)
        elif field.name in ("return_path",) and value is None:
            continue
        elif field.name == "date":
            assert value is None or value.tzinfo is not None
        elif field.name == "attachments":
            assert all(isinstance(a.filename, str) and isinstance(a.content, bytes) for a in value)
        elif field.name == "size":
            assert value == len(raw)
        else:
            assert isinstance(value, str) and "\x00" not in value
            value.encode("utf-8")  # storable: no lone surrogates
    assert mail.automatic in ("", "auto_reply", "bounce", "list")
    assert set(mail.auth_failed) <= {"spf", "dkim", "dmarc"}
    assert bool(mail.reply) == bool(mail.text)
