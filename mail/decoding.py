"""From the bytes of a message to text: charsets as Chinese mail really uses them,
RFC 2047 encoded words, RFC 2231 parameters, format=flowed and HTML. Pure: no
ORM, no settings. Nothing here raises on what a sender wrote; the worst a lying
charset gets is replacement characters."""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement

# Declared charsets read as their supersets: mail declared gb2312 or gbk routinely holds GBK and
# GB18030 characters (𠮷, ⺀, the euro sign), and big5 the Hong Kong supplement's.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "csgb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "utf8": "utf-8",
}
# Single-byte charsets that decode any bytes: declared by misconfigured clients over UTF-8 text.
_ANY_BYTES = {"iso8859-1", "cp1252", "iso8859-15"}
_ERRORS = (LookupError, UnicodeError, ValueError, TypeError)

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TAG = re.compile(r"<[^<>]*>")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.IGNORECASE)

_HTML_CONFIG = ParserConfig(
    css={
        **CSS_PROFILES["strict"],  # no indentation of <div>s, unlike the default profile
        **{tag: HtmlElement(display=Display.none) for tag in ("noscript", "template", "iframe", "object", "svg")},
    }
)


def _codec(charset: str | None) -> str | None:
    """Python's codec for a declared charset, or None when it names no text encoding."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    return codec.name if getattr(codec, "_is_text_encoding", True) else None


def bytes_decode(data: bytes, charset: str | None) -> str:
    """``data`` as text: the declared charset (as its superset), else UTF-8, else GB18030, else
    the declared one (or UTF-8) with replacement characters."""
    codec = _codec(charset)
    candidates = ["utf-8"] if codec in _ANY_BYTES else []
    candidates += [codec] if codec else []
    candidates += ["utf-8", "gb18030"]
    for candidate in dict.fromkeys(candidates):
        try:
            return data.decode(candidate)
        except _ERRORS:
            continue
    try:
        return data.decode(codec or "utf-8", "replace")
    except _ERRORS:
        return data.decode("utf-8", "replace")


def raw_bytes(value: str) -> bytes:
    """The bytes of a header or parameter as the parser read them (8-bit bytes arrive as surrogates)."""
    return value.encode("utf-8", "surrogateescape")


def header_decode(value: str) -> str:
    """A header's text: unfolded, encoded words decoded (adjacent words of one charset
    together, since clients split a character across two), raw 8-bit bytes decoded."""
    value = _FOLD.sub("", value).replace("\r", "").replace("\n", "")
    runs: list[tuple[str | None, bytearray]] = []  # (charset, bytes); None: the header's own 8-bit text
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (between.isspace() and runs and runs[-1][0] is not None):
            _append(runs, None, raw_bytes(between))
        word = _word_decode(match.group(2), match.group(3))
        if word is None:
            _append(runs, None, raw_bytes(match.group(0)))
        else:
            _append(runs, match.group(1).split("*", 1)[0].lower(), word)
        position = match.end()
    _append(runs, None, raw_bytes(value[position:]))
    return text_clean("".join(bytes_decode(bytes(data), charset) for charset, data in runs)).strip()


def _append(runs: list[tuple[str | None, bytearray]], charset: str | None, data: bytes) -> None:
    if runs and runs[-1][0] == charset:
        runs[-1][1].extend(data)
    elif data:
        runs.append((charset, bytearray(data)))


def _word_decode(encoding: str, data: str) -> bytes | None:
    try:
        if encoding in "bB":
            clean = re.sub(r"[^A-Za-z0-9+/]", "", data)
            clean = clean[:-1] if len(clean) % 4 == 1 else clean + "=" * (-len(clean) % 4)
            return base64.b64decode(clean)
        return binascii.a2b_qp(raw_bytes(data), header=True)
    except (binascii.Error, ValueError):
        return None


def param_decode(value: str | tuple | None) -> str:
    """A MIME parameter (a file name) as ``Message.get_param`` returns it: RFC 2231
    ``(charset, language, text)``, or a string that may hold encoded words (Outlook,
    QQ Mail) or raw 8-bit bytes."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        charset, _language, text = (*value, "", "", "")[:3]
        return text_clean(bytes_decode(str(text).encode("latin-1", "replace"), charset or None)).strip()
    return header_decode(str(value))


def text_clean(text: str) -> str:
    """Text fit to store: no NUL or other control characters (PostgreSQL refuses NUL), no lone surrogates."""
    text = _CONTROL.sub("", text)
    return text.encode("utf-8", "replace").decode("utf-8")


def plain_text(data: bytes, *, charset: str | None, flowed: bool, delsp: bool) -> str:
    """A text/plain part's text, with \\n line ends and format=flowed lines joined (RFC 3676)."""
    text = bytes_decode(data, charset).replace("\r\n", "\n").replace("\r", "\n")
    if flowed:
        text = _unflow(text, delsp=delsp)
    return text_clean(text)


def _unflow(text: str, *, delsp: bool) -> str:
    lines: list[tuple[int, list[str]]] = []  # (quote depth, pieces of one logical line)
    joining = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        content = content[1:] if content.startswith(" ") else content  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if joining and lines and depth == lines[-1][0]:
            lines[-1][1].append(content)
        else:
            lines.append((depth, [content]))
        joining = soft
    return "\n".join(">" * depth + (" " if depth else "") + "".join(pieces) for depth, pieces in lines)


def html_text(data: bytes, *, charset: str | None) -> str:
    """An HTML part as plain text: scripts, styles and hidden elements dropped, never markup."""
    if not charset:
        meta = _META_CHARSET.search(data[:4096])
        charset = meta.group(1).decode("ascii") if meta else None
    markup = bytes_decode(data, charset)
    try:
        text = get_text(markup, _HTML_CONFIG)
    except Exception:  # lxml or inscriptis on hostile markup (depth, declarations): strip the tags instead
        text = ""
    if not text.strip():
        text = html.unescape(_TAG.sub(" ", _without_elements(markup, ("script", "style"))))
    text = text.replace("\xa0", " ").replace("\r\n", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text_clean(_BLANK_LINES.sub("\n\n", text)).strip("\n")


def _without_elements(markup: str, tags: tuple[str, ...]) -> str:
    """``markup`` without those elements and their content, in one forward pass (a regex would be quadratic)."""
    lower = markup.lower()
    following = {tag: lower.find(f"<{tag}") for tag in tags}
    kept: list[str] = []
    position = 0
    while live := [(start, tag) for tag, start in following.items() if start >= 0]:
        start, tag = min(live)
        kept.append(markup[position:start])
        end = lower.find(f"</{tag}", start)
        if end < 0:
            return "".join(kept)
        position = (lower.find(">", end) + 1) or len(markup)
        for other, at in following.items():
            if 0 <= at < position:
                following[other] = lower.find(f"<{other}", position)
    kept.append(markup[position:])
    return "".join(kept)
