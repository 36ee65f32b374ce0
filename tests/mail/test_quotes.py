"""The reply in a message's text (mail.quotes.reply_extract): the quote headers and
signatures Chinese clients write, which mail-parser-reply alone misses, and the
limits that keep a consumer's words."""

from __future__ import annotations

import time

import pytest

from mail.quotes import reply_extract

HISTORY = "\n> 您好，退款已于今日原路退回。\n"


@pytest.mark.parametrize(
    "header",
    [
        "在 2026年11月30日 周一 10:00，张三 <a@b.cn> 写道：",  # Gmail (Chinese)
        "张三 <a@b.cn> 于2026年11月30日周一 10:00写道：",  # Gmail (Chinese), name first
        "2026年11月30日 上午10:00，张三 <a@b.cn> 写道：",  # Apple Mail
        '在 2026-11-30 10:00:00，"张三" <a@b.cn> 写道：',  # NetEase 163
        "在 2026年11月30日 周一 10:00，客服中心 <reply+abcdefghijklmnop@cs-desk.example>\n写道：",  # wrapped
        "2026-11-30 10:00 GMT+08:00 张三 <a@b.cn>:",  # older Gmail
        "On Mon, 30 Nov 2026 at 10:00, Zhang San <a@b.cn> wrote:",  # the library's own
    ],
)
def test_wrote_headers(header):
    assert reply_extract(text=f"收到了，谢谢。\n\n{header}\n{HISTORY}") == "收到了，谢谢。"


@pytest.mark.parametrize(
    "block",
    [
        '------------------ 原始邮件 ------------------\n发件人: "客服"<a@b.cn>;\n发送时间: 2026年11月30日(星期一)',
        '------------------ Original ------------------\nFrom: "客服"<a@b.cn>;\nDate: Mon, Nov 30, 2026 10:00 AM',
        "-----原始邮件-----\n发件人: 客服 <a@b.cn>\n发送时间: 2026年11月30日 10:00\n收件人: 张三",
        "发件人：客服 <a@b.cn>\n发送时间：2026年11月30日 10:00\n收件人：张三\n主题：退款",  # full-width colons
        "________________________________\n发件人: 客服 <a@b.cn>\n发送时间: 2026年11月30日 10:00",  # new Outlook
        "-----Original Message-----\nFrom: 客服 <a@b.cn>\nSent: Monday, November 30, 2026 10:00 AM",
    ],
)
def test_header_blocks(block):
    assert reply_extract(text=f"收到了，谢谢。\n\n{block}\n\n您好，退款已于今日原路退回。") == "收到了，谢谢。"


@pytest.mark.parametrize(
    "signature",
    ["-- \n张三\n13812345678", "发自我的iPhone", "发自我的 iPhone", "来自网易邮箱大师", "Sent from my iPhone"],
)
def test_signatures(signature):
    assert reply_extract(text=f"退款还没到。\n\n{signature}\n") == "退款还没到。"


def test_what_a_person_wrote_is_not_taken_for_a_signature():
    text = "以下订单没到：\n- E1\n- E2\n谢谢，请尽快处理。\nThanks, the parcel is still missing.\n警告：商家辱骂"

    assert reply_extract(text=text) == text


def test_a_forward_keeps_everything_even_under_a_reply_marker():
    text = "看看商家说的。\n\n------------------ 原始邮件 ------------------\n发件人: 商家\n发送时间: 昨天\n\n不退款。"

    assert reply_extract(text=text, subject="转发：关于退款") == text
    assert reply_extract(text=text, subject="Re: 关于退款") == "看看商家说的。"


def test_history_quoted_without_a_header_is_dropped_at_the_end_only():
    text = "> 请问订单号？\n订单号 E1。\n> 什么时候买的？\n昨天。\n\n> 客服中心\n> 电话 400"

    assert reply_extract(text=text) == "> 请问订单号？\n订单号 E1。\n> 什么时候买的？\n昨天。"


def test_never_empty_when_there_is_text():
    assert reply_extract(text="> 全部是引用") == "> 全部是引用"
    assert reply_extract(text="发自我的iPhone") == "发自我的iPhone"
    assert reply_extract(text=" \n\n ") == ""


def test_a_long_line_starting_with_on_is_read_in_linear_time():
    # mail-parser-reply's English header pattern is quadratic in a line starting with "On"
    # (about 8 s for 15 000 characters here); lines too long to be a header are stood in for.
    text = "On " + "a" * 15_000 + "\n\nOn Mon, 30 Nov 2026 Zhang <a@b.cn> wrote:\n> old"
    started = time.perf_counter()

    reply = reply_extract(text=text)

    assert reply == "On " + "a" * 15_000
    assert time.perf_counter() - started < 2


def test_beyond_the_first_16000_characters_nothing_is_cut():
    text = "订单问题。" * 4_000 + "\n\nOn Mon, 30 Nov 2026 Zhang <a@b.cn> wrote:\n> old"

    assert reply_extract(text=text) == text


def test_text_that_looks_like_the_stand_ins_is_kept():
    text = "订单\ue0001\ue001号 E1\x005\x00。\n\nOn Mon, 30 Nov 2026 Zhang <a@b.cn> wrote:\n> old"

    assert reply_extract(text=text) == "订单\ue0001\ue001号 E15。"
