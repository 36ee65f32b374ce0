"""What the writer of a reply wrote: the text above the quoted history, without
the signature. Pure: no ORM, no settings.

The splitting is ``mail-parser-reply``'s (its English and Chinese quote headers,
Outlook's separators, its reading loop). This module adds what it misses in the
mail Chinese clients really send, and holds back what would cost a consumer's
words:

* quote headers: Foxmail/QQ ``------------------ 原始邮件 ------------------``,
  Outlook ``-----原始邮件-----``, header blocks with full-width colons
  (``发件人：``), Gmail/Apple/NetEase ``在 2026年11月30日 周一 10:00，张三 <a@b.cn> 写道：``
  (the library's own Chinese "写道" pattern never matches: its look-ahead forbids
  exactly what it looks for), old Gmail ``2026-11-30 10:00 GMT+08:00 张三 <a@b.cn>:``;
* signatures: only unambiguous ones, the ``-- `` line, Outlook's rule of
  underscores and phone clients' ``发自我的iPhone`` / ``Sent from my iPhone``.
  Valedictions ("谢谢，", "Thanks,") and "- " lines do not start a signature
  here (the library's would cut a consumer's list of order numbers), and
  nothing is dropped as a "disclaimer";
* forwards keep everything: a forwarded message is what the consumer sends us;
* bounded work: the library's English header pattern is quadratic in the length
  of a line starting with "On", so it reads the first ``_HEAD_CHARS`` characters
  with over-long lines (which are no quote header) stood in for.
"""

from __future__ import annotations

import re
from functools import cache

from mailparser_reply.constants import MAIL_LANGUAGES
from mailparser_reply.parser import EmailMessage

_Q = r"[ \t]*(?:> ?)*"  # a header or signature may be indented, or sit inside quoted levels ("> > ")
_HEAD_CHARS = 16_000  # a reply longer than this keeps its quoted history (rare, and staff see the original)
_LONG_LINE = 200  # longer lines are no quote header or signature
_STAND_IN = re.compile("\x00(\\d+)\x00")  # NUL: in no pattern, and taken out of the text first

# Quote headers the library misses; each one capturing group (its reading loop looks the groups up in the text).
_CHINESE_HEADERS = (
    # Foxmail/QQ "------------------ 原始邮件 ------------------", Outlook "-----原始邮件-----",
    # Foxmail in English "------------------ Original ------------------"
    rf"^{_Q}-{{2,}}[ \t\xa0]*(?:原始邮件|原始郵件|原邮件|Original)[ \t\xa0]*-{{2,}}$",
    # Outlook/QQ header block starting with the sender, with full-width or ASCII colons
    rf"^{_Q}[* ]*(?:发件人|發件人)[ \t\xa0]*[:：][^\n]*\n"
    rf"(?:{_Q}[* ]*(?:发送时间|發送時間|发件时间|时间|日期|收件人|主题|主旨|抄送|Date|Sent|To|Subject)"
    rf"[ \t\xa0]*[:：][^\n]*(?:\n|$))+",
    # "在 2026年11月30日 周一 10:00，张三 <a@b.cn> 写道：", "张三 <a@b.cn> 于2026年11月30日周一 10:00写道：",
    # "在 2026-11-30 10:00:00，"张三" <a@b.cn> 写道：", possibly wrapped over two lines
    rf"^{_Q}(?=[^\n]{{0,200}}(?:\d{{4}}[ \t]*年|\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|@))"  # a date or an address
    rf"[^\n]{{0,200}}(?:\n[^\n]{{0,200}})?[写寫]道[ \t]*[:：]$",
    # old Gmail: "2026-11-30 10:00 GMT+08:00 张三 <a@b.cn>:"
    rf"^{_Q}\d{{4}}-\d{{1,2}}-\d{{1,2}} \d{{1,2}}:\d{{2}} GMT[+-]\d{{1,2}}:?\d{{2}} "
    rf"[^\n]{{0,200}}<[^\n<>]+@[^\n<>]+>:$",
)

_FORWARD_MARKER = re.compile(
    rf"^{_Q}[-=_ ]*(?:Forwarded message|Forwarded Message|Begin forwarded message|转发的邮件|转发邮件|转发的消息|"
    rf"轉寄的郵件|轉寄郵件|以下是转发的邮件|下面是被转发的邮件)[-=_ ]*[:：]?$",
    re.MULTILINE | re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(?:fwd?|转发|轉寄|转寄|轉發)\s*[:：]", re.IGNORECASE)

_SENT_FROM = "|".join(
    (
        MAIL_LANGUAGES["en"]["sent_from"],  # "Sent from my|Get Outlook for"
        MAIL_LANGUAGES["zh"]["sent_from"],  # "从我的.*发送"
        r"(?:发自|来自|發自|來自)(?:我的|网易邮箱|手机QQ邮箱|QQ邮箱|新浪邮箱|搜狐邮箱|139邮箱|Foxmail|企业微信|钉钉)",
    )
)
# The library's signature starts, restated in linear time: its Outlook rule, "\n{2,} ?[_-]{32,}", is
# quadratic in a run of blank lines (seconds for 16 000 of them).
_SIGNATURE = re.compile(
    rf"(?:^{_Q}[-_]{{2}}\n|(?<=\n\n) ?[_-]{{32,}}|^{_Q}(?:{_SENT_FROM})[ \t]?[\w.<>:/ \t-]{{0,40}}$)[\s\S]*",
    re.MULTILINE | re.IGNORECASE,
)
_NOTHING = re.compile(r"(?!)")
_RULE = re.compile(r"^\s*[-_=*]{10,}\s*$")


@cache
def _headers() -> re.Pattern[str]:
    """The library's quote headers for Chinese and English, with ours beside them, compiled once."""
    library = EmailMessage(text="", languages=["zh"]).HEADER_REGEX.pattern
    ours = "|".join(f"({p})" for p in _CHINESE_HEADERS)
    return re.compile(f"{library}|{ours}", re.MULTILINE | re.IGNORECASE)


class _Reply(EmailMessage):
    """The library's message, reading with our patterns."""

    def _normalize_text(self) -> None:
        """Nothing more to do: ``reply_extract`` ended the lines with \n and trimmed their ends. Unlike
        the library, leading spaces stay: they are the writer's (indented lines, converted HTML lists)."""

    @property
    def HEADER_REGEX(self) -> re.Pattern[str]:
        return _headers()

    @property
    def SIGNATURE_REGEX(self) -> re.Pattern[str]:
        return _SIGNATURE

    @property
    def DISCLAIMERS_REGEX(self) -> re.Pattern[str]:
        return _NOTHING


def reply_extract(*, text: str, subject: str = "") -> str:
    """The newest part of ``text``: above the quoted history, without the signature.
    A forward keeps all of it. Never empty unless ``text`` is blank."""
    text = text.replace("\x00", "").replace("\r\n", "\n")
    whole = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    if not whole.strip():
        return ""
    head, long_lines = _stand_in(whole[:_HEAD_CHARS])
    if _forwarded(head, subject):
        return whole
    replies = _Reply(text=head, languages=["zh"], keep_hyphen_lists=True).read().replies
    if len(replies) < 2 and len(whole) > _HEAD_CHARS:
        return whole  # no quote header in the head: all of it is the writer's
    reply = _without_trailing_quotes(replies[0].body if replies else "")
    reply = _STAND_IN.sub(lambda m: long_lines[int(m.group(1))], reply).strip()
    return reply or whole


def _stand_in(text: str) -> tuple[str, list[str]]:
    long_lines: list[str] = []

    def stand_in(line: str) -> str:
        if len(line) <= _LONG_LINE:
            return line
        long_lines.append(line)
        return f"\x00{len(long_lines) - 1}\x00"

    return "\n".join(stand_in(line) for line in text.split("\n")), long_lines


def _forwarded(head: str, subject: str) -> bool:
    """A forward: the subject says so, or a forward marker comes before any quote header."""
    if _FORWARD_SUBJECT.match(subject):
        return True
    marker = _FORWARD_MARKER.search(head)
    if marker is None:
        return False
    header = _headers().search(head)
    return header is None or marker.start() <= header.start()


def _without_trailing_quotes(text: str) -> str:
    """Drop "> " lines at the end (history quoted without a header), rules (a separator above
    the header block) and blank lines."""
    lines = text.split("\n")
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">") or _RULE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines)
