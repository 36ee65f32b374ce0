"""Mail as it really arrives, built by the standard library's MIME classes with the
charset and transfer encoding each client uses, so the bytes are what a real
client sends. One builder per case; each returns the raw message.

Every builder takes the envelope as keywords, for the pipeline's tests to reuse:
``sender`` and ``sender_name`` (From), ``to``, ``subject``, ``body`` (where the
case has one), ``message_id`` (without <>; None: a fresh one; "": no Message-ID
header), ``in_reply_to`` and ``references`` (without <>), ``date`` and
``headers`` (extra headers; a value of None removes a header the builder sets).
"""

from __future__ import annotations

import base64
import quopri
import uuid
from email.charset import BASE64, QP, Charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, getaddresses
from io import BytesIO

from PIL import Image

SENDER = "zhangsan@qq.com"
SENDER_NAME = "张三"
SUPPORT = "support@cs-desk.example"
DATE = "Mon, 30 Nov 2026 10:00:00 +0800"  # 2026-11-30 02:00 UTC
OUR_ADDRESS = "客服中心 <reply+t123@cs-desk.example>"  # how the quoted headers name us


def png_bytes() -> bytes:
    """A real 8×8 PNG (the evidence checks re-encode it)."""
    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    """A real one-page PDF without scripts."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"


# --- the cases -------------------------------------------------------------


def plain_utf8(
    *, subject: str = "订单一直没有发货", body: str = "你好，我的订单三天了还没有发货。", **envelope
) -> bytes:
    """A plain UTF-8 message, 8bit, as Thunderbird or a webmail sends it."""
    return _send(_text(body, charset="utf-8", encoding="8bit"), subject=subject, **envelope)


def gbk(*, subject: str = "退款七天没到账", body: str = "申请退款七天了还没有到账，请尽快处理。", **envelope) -> bytes:
    """A GBK body in base64 and a GBK encoded-word subject (Foxmail, older Outlook)."""
    part = _text(body, charset="gbk", encoding="base64")
    return _send(part, subject=subject, subject_charset="gbk", **envelope)


def gb2312_with_gb18030_characters(
    *, subject: str = "吉祥物𠮷的订单", body: str = "我买的“𠮷”字T恤⺀没收到，订单号 E20261130001。", **envelope
) -> bytes:
    """Declared gb2312, written with GB18030 characters (𠮷, ⺀) that gb2312 lacks, as clients do."""
    part = _text(body, charset="gb2312", encoding="base64", codec="gb18030")
    return _send(part, subject=subject, subject_charset="gb2312", subject_codec="gb18030", **envelope)


def big5(*, subject: str = "訂單問題", body: str = "唔該，我嘅訂單冇到㗎，請幫忙查一下。", **envelope) -> bytes:
    """Traditional Chinese declared big5, with Hong Kong supplement characters (嘅, 㗎)."""
    part = _text(body, charset="big5", encoding="base64", codec="big5hkscs")
    return _send(part, subject=subject, subject_charset="big5", subject_codec="big5hkscs", **envelope)


HTML_PAGE = """<html><head><meta charset="utf-8"><title>退款</title>
<style>p { color: red; } .x { display: block; }</style>
<script>alert("你被骗了");document.cookie</script></head>
<body><p>您好，</p><div>我的退款<b>还没有</b>到账&nbsp;&amp;&nbsp;订单号 E1。</div>
<ul><li>申请日期：11月20日</li></ul><p>谢谢！</p></body></html>"""


def html_only(*, subject: str = "退款没到", body: str = HTML_PAGE, **envelope) -> bytes:
    """HTML alone, no text alternative (some webmail and mobile clients)."""
    return _send(_text(body, subtype="html", charset="utf-8", encoding="quoted-printable"), subject=subject, **envelope)


def quoted_printable(
    *, subject: str = "物流信息不更新", body: str = "快递单号 SF1234567890，物流五天没有更新了。", **envelope
) -> bytes:
    return _send(_text(body, charset="utf-8", encoding="quoted-printable"), subject=subject, **envelope)


def base64_body(
    *, subject: str = "无法下单", body: str = "提交订单时一直显示“系统繁忙”，无法下单。", **envelope
) -> bytes:
    return _send(_text(body, charset="utf-8", encoding="base64"), subject=subject, **envelope)


def foxmail_reply(
    *, subject: str = "回复：[#T-123] 退款七天没到账", body: str = "好的，订单号是 E20261130001。", **envelope
) -> bytes:
    """QQ Mail / Foxmail: GB18030, text and HTML alternatives in base64, the history under "原始邮件"."""
    history = (
        "\n\n------------------ 原始邮件 ------------------\n"
        f'发件人: "客服中心"<reply+t123@cs-desk.example>;\n'
        "发送时间: 2026年11月30日(星期一) 上午9:00\n"
        f'收件人: "张三"<{SENDER}>;\n'
        "主题: [#T-123] 退款七天没到账\n\n"
        "您好，请提供订单号，我们为您查询。\n"
    )
    html = (
        f"<div>{body}</div><div><br></div><div style='font-size: 12px'>"
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div><b>发件人:</b>&nbsp;"客服中心"&lt;reply+t123@cs-desk.example&gt;;</div>'
        "<div>您好，请提供订单号，我们为您查询。</div>"
    )
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text(body + history, charset="gb18030", encoding="base64"))
    alternative.attach(_text(html, subtype="html", charset="gb18030", encoding="base64"))
    return _send(alternative, subject=subject, subject_charset="gb18030", **envelope)


def outlook_reply(
    *, subject: str = "答复: [#T-123] 退款七天没到账", body: str = "款项今天已经收到，谢谢。", **envelope
):
    """Outlook (Chinese): gb2312 base64, the history under "-----原始邮件-----"."""
    history = (
        "\n\n-----原始邮件-----\n"
        f"发件人: {OUR_ADDRESS}\n"
        "发送时间: 2026年11月30日 9:00\n"
        f"收件人: 张三 <{SENDER}>\n"
        "主题: [#T-123] 退款七天没到账\n\n"
        "您好，退款已于今日原路退回。\n"
    )
    part = _text(body + history, charset="gb2312", encoding="base64")
    return _send(part, subject=subject, subject_charset="gb2312", **envelope)


def gmail_reply(
    *,
    subject: str = "Re: [#T-123] 退款七天没到账",
    body: str = "还是没有收到，麻烦再查一下。",
    language: str = "zh",
    **envelope,
) -> bytes:
    """Gmail: UTF-8 quoted-printable, "在 … 写道：" (or "On … wrote:") above "> " lines."""
    header = {
        "zh": f"在 2026年11月30日周一 09:00，{OUR_ADDRESS} 写道：",
        "en": f"On Mon, 30 Nov 2026 at 09:00, {OUR_ADDRESS} wrote:",
    }[language]
    text = f"{body}\n\n{header}\n\n> 您好，退款已于今日原路退回。\n>\n> 客服中心\n"
    return _send(_text(text, charset="utf-8", encoding="quoted-printable"), subject=subject, **envelope)


def gmail_html_reply(
    *, subject: str = "Re: [#T-123] 退款七天没到账", body: str = "还是没有收到。", **envelope
) -> bytes:
    """Gmail's app sending HTML alone: the history in a gmail_quote block."""
    html = (
        f'<div dir="ltr">{body}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        '在 2026年11月30日周一 09:00，客服中心 &lt;<a href="mailto:reply+t123@cs-desk.example">'
        "reply+t123@cs-desk.example</a>&gt; 写道：<br></div>"
        '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">'
        "您好，退款已于今日原路退回。</blockquote></div>"
    )
    return _send(_text(html, subtype="html", charset="utf-8", encoding="quoted-printable"), subject=subject, **envelope)


def apple_reply(*, subject: str = "Re: [#T-123] 退款七天没到账", body: str = "收到，谢谢！", **envelope) -> bytes:
    """Apple Mail on an iPhone: "发自我的iPhone", then "2026年11月30日 09:00，… 写道："."""
    text = (
        f"{body}\n\n发自我的iPhone\n\n> 2026年11月30日 09:00，{OUR_ADDRESS} 写道：\n>\n> 您好，退款已于今日原路退回。\n"
    )
    return _send(_text(text, charset="utf-8", encoding="quoted-printable"), subject=subject, **envelope)


FORWARDED_TEXT = "亲，您的退款申请不符合条件，不予退款。——某某旗舰店"


def forwarded(
    *, subject: str | None = None, body: str = "请看商家的回复，他们拒绝退款。", style: str = "gmail", **envelope
):
    """A consumer forwarding the shop's mail to us: Gmail (English or Chinese) or QQ Mail."""
    shop = "某某旗舰店 <shop@tmall.example>"
    marker = {
        "gmail": f"---------- Forwarded message ---------\nFrom: {shop}\nDate: 2026年11月29日周日 18:00\n"
        f"Subject: 关于退款\nTo: <{SENDER}>\n",
        "gmail_zh": f"---------- 转发的邮件 ---------\n发件人： {shop}\n日期：2026年11月29日周日 18:00\n"
        f"主题：关于退款\n收件人： <{SENDER}>\n",
        "qq": f'------------------ 原始邮件 ------------------\n发件人: "某某旗舰店"<shop@tmall.example>;\n'
        f'发送时间: 2026年11月29日(星期天) 晚上6:00\n收件人: "张三"<{SENDER}>;\n主题: 关于退款\n',
    }[style]
    if subject is None:
        subject = "转发：关于退款" if style == "qq" else "Fwd: 关于退款"
    text = f"{body}\n\n{marker}\n{FORWARDED_TEXT}\n"
    return _send(_text(text, charset="utf-8", encoding="base64"), subject=subject, **envelope)


def signature(*, subject: str = "多个订单未发货", body: str | None = None, **envelope) -> bytes:
    """A reply with a list and a "-- " signature (RFC 3676's separator)."""
    if body is None:
        body = "以下订单都没有发货：\n- E20261130001\n- E20261130002\n谢谢，\n张三\n-- \n张三\n手机 138 1234 5678\n"
    return _send(_text(body, charset="utf-8", encoding="quoted-printable"), subject=subject, **envelope)


def auto_reply(
    *, subject: str = "自动回复: [#T-123] 退款七天没到账", body: str = "您好，我正在休假，12月7日回来。", **envelope
):
    """An out-of-office that says so (RFC 3834 Auto-Submitted)."""
    envelope["headers"] = {"Auto-Submitted": "auto-replied", **(envelope.get("headers") or {})}
    return _send(_text(body, charset="utf-8", encoding="base64"), subject=subject, **envelope)


def out_of_office(*, subject: str = "自动回复：[#T-123] 退款七天没到账", body: str = "我不在办公室。", **envelope):
    """An out-of-office that does not say so in a header, only in its subject (and asks for no replies)."""
    envelope["headers"] = {"X-Auto-Response-Suppress": "All", **(envelope.get("headers") or {})}
    return _send(_text(body, charset="utf-8", encoding="base64"), subject=subject, **envelope)


def bounce(
    *,
    subject: str = "Undelivered Mail Returned to Sender",
    body: str = "This is the mail system at host mx.qq.com.\n\nI'm sorry to have to inform you that your message "
    "could not be delivered to one or more recipients.\n\n<nobody@qq.com>: mailbox unavailable",
    sender: str = "MAILER-DAEMON@mx.qq.com",
    sender_name: str = "Mail Delivery System",
    **envelope,
) -> bytes:
    """A DSN (RFC 3464): multipart/report of the human part, message/delivery-status and the headers returned."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report.attach(_text(body, charset="us-ascii", encoding="7bit"))
    status = Message()
    status.set_type("message/delivery-status")
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx.qq.com"
    per_recipient["Final-Recipient"] = "rfc822; nobody@qq.com"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    status.set_payload([per_message, per_recipient])
    report.attach(status)
    returned = MIMENonMultipart("text", "rfc822-headers")
    returned.set_payload(f"From: {SUPPORT}\nTo: nobody@qq.com\nSubject: [#T-123]\n")
    report.attach(returned)
    envelope["headers"] = {"Return-Path": "<>", **(envelope.get("headers") or {})}
    return _send(report, subject=subject, sender=sender, sender_name=sender_name, **envelope)


def list_mail(*, subject: str = "[促销] 双十二大促提前看", body: str = "全场五折起。", **envelope) -> bytes:
    """Mailing-list or newsletter mail."""
    envelope["headers"] = {
        "List-Id": "商家促销 <promo.list.example.com>",
        "List-Unsubscribe": "<mailto:unsubscribe@list.example.com>",
        "Precedence": "list",
        **(envelope.get("headers") or {}),
    }
    return _send(_text(body, charset="utf-8", encoding="base64"), subject=subject, **envelope)


def screenshot(
    *,
    subject: str = "聊天截图",
    body: str = "商家的聊天截图见附件。",
    filename: str = "截图.png",
    naming: str = "rfc2231",
    content: bytes | None = None,
    **envelope,
) -> bytes:
    """An image attachment with a Chinese file name: RFC 2231 (Thunderbird, Apple Mail) or
    an encoded word in quotes (Outlook, QQ Mail: not standard, everywhere)."""
    image = MIMEImage(png_bytes() if content is None else content, "png")
    _name(image, filename, naming)
    return _send(_mixed(_text(body, charset="utf-8", encoding="base64"), image), subject=subject, **envelope)


def html_with_inline_image(*, subject: str = "截图在正文里", body: str = "请看下图：", **envelope) -> bytes:
    """Text and HTML alternatives, the HTML's image inline (multipart/related, cid:)."""
    related = MIMEMultipart("related")
    related.attach(_text(f'<p>{body}</p><img src="cid:shot1">', subtype="html", charset="utf-8", encoding="base64"))
    image = MIMEImage(png_bytes(), "png")
    image.add_header("Content-ID", "<shot1>")
    image.add_header("Content-Disposition", "inline", filename=("utf-8", "", "截图.png"))
    related.attach(image)
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text(body, charset="utf-8", encoding="base64"))
    alternative.attach(related)
    return _send(alternative, subject=subject, **envelope)


def pdf(
    *, subject: str = "退款凭证", body: str = "退款凭证见附件。", filename: str = "退款凭证.pdf", **envelope
) -> bytes:
    attachment = MIMEApplication(pdf_bytes(), "pdf")
    _name(attachment, filename, "rfc2231")
    return _send(_mixed(_text(body, charset="utf-8", encoding="base64"), attachment), subject=subject, **envelope)


def exe(
    *, subject: str = "发票", body: str = "发票在附件里，请查收。", filename: str = "发票.exe", **envelope
) -> bytes:
    """A hostile attachment: the parser hands it over, the pipeline's evidence checks refuse it."""
    attachment = MIMEApplication(EXE_BYTES, "octet-stream")
    _name(attachment, filename, "encoded_word")
    return _send(_mixed(_text(body, charset="gb18030", encoding="base64"), attachment), subject=subject, **envelope)


def without_message_id(**envelope) -> bytes:
    return plain_utf8(**{**envelope, "message_id": ""})


def authenticated(*, results: tuple[str, ...] = ("mx.cs-desk.example; spf=pass; dkim=pass; dmarc=pass",), **envelope):
    """A message with Authentication-Results headers (RFC 8601), one per entry of ``results``."""
    return _insert_headers(plain_utf8(**envelope), [("Authentication-Results", r) for r in results])


def garbage() -> bytes:
    """Bytes that are no email at all: the start of a JPEG."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00C\x00\x08\x06\x06\x07"


# --- building --------------------------------------------------------------


def _text(text: str, *, subtype: str = "plain", charset: str, encoding: str, codec: str | None = None) -> Message:
    """A text part as clients write it: encoded with ``codec`` (default: the charset), labelled ``charset``."""
    data = text.replace("\n", "\r\n").encode(codec or charset)
    if encoding in ("base64", "quoted-printable") and codec is None:
        label = Charset(charset)
        label.body_encoding = BASE64 if encoding == "base64" else QP
        return MIMEText(text, subtype, label)
    part = MIMENonMultipart("text", subtype, charset=charset)
    if encoding == "base64":
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    elif encoding == "quoted-printable":
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    else:  # 7bit / 8bit: the bytes themselves (the bytes generator writes them back as they are)
        part.set_payload(data.decode("ascii", "surrogateescape"))
    part["Content-Transfer-Encoding"] = encoding
    return part


def _mixed(*parts: Message) -> MIMEMultipart:
    mixed = MIMEMultipart("mixed")
    for part in parts:
        mixed.attach(part)
    return mixed


def _name(part: Message, filename: str, naming: str) -> None:
    if naming == "rfc2231":
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    else:
        encoded = Header(filename, "gb18030").encode()
        part.set_param("name", encoded)
        part.add_header("Content-Disposition", "attachment", filename=encoded)


def _send(
    message: Message,
    *,
    subject: str,
    subject_charset: str = "utf-8",
    subject_codec: str | None = None,
    sender: str = SENDER,
    sender_name: str = SENDER_NAME,
    to: str = SUPPORT,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: str = DATE,
    headers: dict[str, str | None] | None = None,
) -> bytes:
    fields: dict[str, str | None] = {
        "From": formataddr((sender_name, sender), charset="utf-8") if sender_name else sender,
        "To": to,
        "Subject": _encoded(subject, subject_charset, subject_codec),
        "Date": date,
        "Message-ID": None if message_id == "" else f"<{(message_id or f'{uuid.uuid4().hex}@qq.com').strip('<>')}>",
        "MIME-Version": "1.0",
    }
    if in_reply_to:
        fields["In-Reply-To"] = f"<{in_reply_to}>"
        fields["References"] = f"<{references or in_reply_to}>"
    fields |= headers or {}
    top = [(name, value) for name, value in fields.items() if value is not None and name != "MIME-Version"]
    for name, value in top:
        if value.isascii():
            message[name] = value
        elif name.lower() in ("from", "to", "cc", "reply-to"):  # only the display names are encoded
            message[name] = ", ".join(formataddr(pair, charset="utf-8") for pair in getaddresses([value]))
        else:
            message[name] = Header(value, "utf-8").encode()
    if "MIME-Version" in message:
        del message["MIME-Version"]
    message["MIME-Version"] = "1.0"
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _encoded(subject: str, charset: str, codec: str | None) -> str:
    """An encoded-word subject as the client writes it (only when it is not plain ASCII)."""
    if subject.isascii():
        return subject
    if codec is None:
        return Header(subject, charset).encode()
    data = base64.b64encode(subject.encode(codec)).decode("ascii")
    return f"=?{charset}?B?{data}?="


def _insert_headers(raw: bytes, headers: list[tuple[str, str]]) -> bytes:
    """Headers a receiving server prepends (Authentication-Results, Received), above the sender's."""
    return b"".join(f"{name}: {value}\r\n".encode() for name, value in headers) + raw
