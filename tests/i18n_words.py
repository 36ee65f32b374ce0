"""Is a page in Chinese? The English words a person reading it would see.

``english_words(html)`` reads a rendered page the way its reader does: the text
of the document and the attributes a browser shows (a placeholder, a tooltip, a
button's caption). It skips what is not shown (scripts, styles, templates,
comments, elements ``hidden`` or ``visually-hidden``, other attributes such as
URLs and class names), what is data (form values: an input's value, a text
area), what is marked as code (``<code>``, ``<kbd>``, ``<samp>``) and addresses
(URLs, e-mail addresses). In the rest it finds the words written in ASCII
letters: runs of letters and underscores of two letters or more (``CS`` in
``CS-20261123-000042``, ``merchant_replied`` and ``cs_desk`` whole; a run with a
digit, such as a checksum or ``2h``, is a code). What is left once ``ALLOWED`` is
taken out is English a Chinese reader should not meet: an untranslated label, a
raw code, a default Django string.

Pages under test should be filled with Chinese or digit-only data (names,
subjects, usernames, e-mail addresses on a Chinese domain such as
``13800138000@例子.中国``), so that what the check finds is the interface's own
English, not the data's. Used by the admin's test (tests/cs_desk/test_admin.py)
and meant for the desk, portal, report and consumer pages alike.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# What a Chinese page may show in ASCII letters, each for a reason; keep it short.
# A word stands for itself anywhere; a phrase (with a space, a hyphen or a slash)
# is allowed only whole, so that its words are not allowed alone.
ALLOWED: frozenset[str] = frozenset(
    {
        "cs_desk",  # the product's name, in the admin's brand (「cs_desk 客服管理」)
        "CS",  # the prefix of every ticket reference, CS-YYYYMMDD-NNNNNN
        "SLA",  # the industry's term, kept by the Chinese catalogue (SLA 策略, SLA 目标)
        "API",  # likewise (API 令牌, API 密钥)
        "ID",  # likewise (店铺 ID, 推送 ID)
        "URL",  # likewise (a webhook endpoint's URL)
        "Webhook",  # likewise (Webhook 接收地址, Webhook 推送): no settled Chinese word
        "App",  # a loanword of everyday Chinese (网站与 App, the channel App)
        "HTTP",  # protocols and standards by their names: a webhook's last HTTP status,
        "SMTP",  # how an email came in (本地 SMTP 接收, 邮箱（IMAP）) and the checks it
        "IMAP",  # can fail (SPF、DKIM 或 DMARC 验证失败)
        "SPF",
        "DKIM",
        "DMARC",
        "IANA",  # the time-zone database's keeper, in a time zone field's help (IANA 时区名称)
        "LDAP",  # Django's own Chinese help on the password field of a new user
        "Message-ID",  # the mail header, named as it is spelt (邮件标识（Message-ID）)
        "English",  # the language switch names English in English (lang="en"), as a reader of it looks for it
        "PDF",  # file formats and units by their names, as the Chinese catalogue keeps them: evidence files
        "CSV",  # (照片或 PDF 文件, 每个不超过 10 MB), downloads (导出 CSV)
        "MB",
        "Erlang",  # A. K. Erlang, whose formula (Erlang C) the volume report's chat staffing uses
        "Asia/Shanghai",  # the site's time zone by its IANA name, a code an administrator types
        "Standard Webhooks",  # the name of the specification webhook receivers verify signatures by
        "按住 Control 键或 Mac 上的 Command 键",  # Django's own Chinese help on multiple choices: keys as printed
    }
)
_PHRASES = sorted((entry for entry in ALLOWED if re.search(r"[\s/-]", entry)), key=len, reverse=True)

# Elements whose content a reader never sees as text; those that mark theirs as code
# (a canned answer's ``{reference}``, a JSON payload, a checksum): not language; and
# a text area, whose content is a form's value, data like an input's value.
_HIDDEN_CONTENT = {"script", "style", "template", "noscript", "code", "kbd", "samp", "textarea"}
# Attributes a browser shows: a field's placeholder, a tooltip, a button's caption.
# Other attributes (URLs, class names, an input's value, which is data) are not read.
_SHOWN_ATTRIBUTES = ("placeholder", "title")
_BUTTON_TYPES = {"submit", "button", "reset"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

# An address is not language: a URL (a tracking link, a webhook's endpoint) or an
# e-mail address, whatever its letters.
_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|[^\s<>()（）]+@[^\s<>()（）]+", re.IGNORECASE)
# A word is a run of ASCII letters (and underscores, which join a code such as
# merchant_replied); a run that holds a digit (a hash, a token, 3h) is a code.
_TOKEN = re.compile(r"[A-Za-z0-9_]+")


def _hides(tag: str, attrs: dict[str, str | None]) -> bool:
    """Whether the element's content is not read: not text, or never shown (the
    ``hidden`` attribute, or the ``visually-hidden`` class of text for screen readers
    only, e.g. the column headings of Django 5.2's app list, which Django's own
    Chinese catalogue does not translate yet)."""
    return tag in _HIDDEN_CONTENT or "hidden" in attrs or "visually-hidden" in (attrs.get("class") or "").split()


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []  # each open element, and whether it hides its content

    @property
    def _hidden(self) -> bool:
        return any(hides for _tag, hides in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = dict(attrs)
        hides = _hides(tag, shown)
        if tag not in _VOID:
            self._open.append((tag, hides))
        if self._hidden or hides:
            return
        self.parts.extend(shown[name] for name in _SHOWN_ATTRIBUTES if shown.get(name))
        if tag == "input" and (shown.get("type") or "").lower() in _BUTTON_TYPES and shown.get("value"):
            self.parts.append(shown["value"])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <input … />, and a self-closed element of any kind: shown attributes only.
        depth = len(self._open)
        self.handle_starttag(tag, attrs)
        del self._open[depth:]

    def handle_endtag(self, tag: str) -> None:
        if all(open_tag != tag for open_tag, _hides in self._open):
            return  # a stray end tag
        while self._open and self._open.pop()[0] != tag:
            pass  # elements left open inside it (a <p> or <li> without its end tag)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text of ``html`` a reader sees, with the shown attributes, one piece a line."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(part.strip() for part in parser.parts if part.strip())


def english_words(html: str) -> set[str]:
    """The words in ASCII letters a reader of ``html`` sees, outside ``ALLOWED``."""
    text = _ADDRESS.sub(" ", visible_text(html))
    for phrase in _PHRASES:
        text = text.replace(phrase, " ")
    words = {token for token in _TOKEN.findall(text) if not any(c.isdigit() for c in token)}
    return {word for word in words if sum(c.isalpha() for c in word) >= 2} - ALLOWED
