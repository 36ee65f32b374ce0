"""Is a PDF safe to keep and hand back byte for byte?

A PDF is accepted only when it parses, is not encrypted, has a page, and none
of the objects it *defines* does something by itself or carries files. Every
definition counts, reachable or not: each "N G obj" in the body, read as a
lenient viewer's lexer would find it (so the objects of every incremental
update, including those a later revision supersedes or frees), every object
the cross-reference data of any revision points at (tables and streams), and
every object packed in an object stream, which is decompressed to be read.
Names are compared as parsed, so ``/J#61vaScript`` is ``/JavaScript``; an
action's name found between objects, where none belongs, is refused too.

Refused anywhere in the file (``pdf_active_content``):

* JavaScript: an action ``/S /JavaScript``, any ``/JS`` key, a
  ``/JavaScript`` name tree, a ``/URI`` action with a ``javascript:`` address;
* the actions ``/Launch``, ``/SubmitForm``, ``/ImportData`` and
  ``/RichMediaExecute``, even behind an ordinary link;
* files: ``/EmbeddedFiles``, ``/EmbeddedFile`` streams, file specifications
  with ``/EF``, ``/FileAttachment`` annotations; ``/RichMedia`` annotations
  and ``/RichMediaContent``; XFA forms (``/XFA``).

What runs without a click — ``/OpenAction`` and every ``/AA`` (document, page,
annotation, form field) — may only move inside the document: a destination
(an array or a name), ``/S /GoTo``, or ``/S /Named`` turning to the next,
previous, first or last page; every action chained by ``/Next`` likewise. A
reference counts through *all* its definitions, old revisions included, so it
does not matter which revision a viewer believes; a reference to nothing, or
around in a circle, stands for nothing.

The work is bounded, whatever the file: at most ``MAX_OBJECTS`` definitions,
``MAX_TOKENS`` parsed array elements and dictionary entries,
``MAX_INFLATED_BYTES`` decompressed (per stream and in all) and
``MAX_LOOKUPS`` references followed. A file over any of them, or with an
object that cannot be parsed strictly (duplicate keys, a damaged dictionary:
where a lenient reader and a viewer might disagree), is refused as unreadable
(``invalid_pdf``). Our reading comes before pypdf's, whose repair of a broken
file reads every object without a limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from itertools import islice
from typing import NamedTuple

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    StreamParsingBudget,
    TextStringObject,
    read_object,
)

INVALID = "invalid_pdf"
ENCRYPTED = "pdf_encrypted"
ACTIVE = "pdf_active_content"

MAX_OBJECTS = 50_000  # object definitions parsed (and header look-alikes tried)
MAX_TOKENS = 200_000  # array elements and dictionary entries (×2) parsed, in all
MAX_INFLATED_BYTES = 8 * 1024 * 1024  # decompressed from object streams, per stream and in all
MAX_LOOKUPS = 200_000  # definitions visited while following references
MAX_ACTIONS = 64  # actions in one /OpenAction or /AA chain

# Keys that only ever hold scripts, files or XFA forms.
_REFUSED_KEYS = {
    "/JS": "a JavaScript action",
    "/JavaScript": "a document JavaScript name tree",
    "/EmbeddedFiles": "an embedded files name tree",
    "/EF": "a file specification with embedded files",
    "/RichMediaContent": "rich media content",
    "/XFA": "an XFA form",
}
_REFUSED_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute"}
_REFUSED_SUBTYPES = {"/FileAttachment", "/RichMedia"}
_PAGE_TURNS = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}
_DESTINATIONS = (ArrayObject, NameObject, TextStringObject, ByteStringObject, NullObject)

# "12 0 obj": an object header, wherever it stands (any revision, or bytes a
# viewer might take for one), as a lenient lexer reads it: white space or
# comments between the parts, none needed before "obj". Found from the keyword
# back, which is fast (a pattern that starts with a digit is tried at every byte).
_KEYWORD = re.compile(rb"obj")
_SEP = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*[\r\n])"
_NUMBERS = re.compile(rb"(?<![0-9])([0-9]{1,10})" + _SEP + rb"+([0-9]{1,5})" + _SEP + rb"*\Z")
_HEADER_AT = re.compile(_SEP + rb"*[0-9]{1,10}" + _SEP + rb"+[0-9]{1,5}" + _SEP + rb"*obj")
# Classic cross-reference tables, of every revision: "xref", then subsections
# ("first count") of rows ("0000012345 00000 n").
_XREF_ROW = re.compile(rb"[0-9]{10}[ ][0-9]{5}[ ][nf]")
_TABLE = re.compile(rb"(?<!start)xref")
_SUBSECTION = re.compile(rb"[\x00\t\n\x0c\r ]*([0-9]{1,10})[ ]+([0-9]{1,10})[ \t]*[\r\n]")
_ROW = re.compile(rb"[\x00\t\n\x0c\r ]*([0-9]{10})[ ]([0-9]{5})[ ]([nf])")
# Names with no business between objects (where only cross-reference tables,
# trailers and comments stand): there they mean an object we could not read.
_NAME = re.compile(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
_NOT_BETWEEN_OBJECTS = {
    *_REFUSED_KEYS,
    *_REFUSED_ACTIONS,
    *_REFUSED_SUBTYPES,
    *("/EmbeddedFile", "/OpenAction", "/AA", "/URI", "/GoToR", "/GoToE", "/Named", "/ResetForm", "/Hide"),
    *("/Rendition", "/Sound", "/Movie", "/SetOCGState", "/Trans", "/GoTo3DView"),
}
_WHITE_SPACE = b"\x00\t\n\x0c\r "
_SCRIPT_SCHEME = re.compile(r"^[\x00- ]*javascript:", re.IGNORECASE)


class PdfRefused(Exception):
    """The PDF is refused: ``code`` is one of INVALID, ENCRYPTED, ACTIVE;
    ``reason`` says what was found, for the logs (never shown to the sender)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def pdf_check(*, data: bytes) -> None:
    """Raise ``PdfRefused`` unless ``data`` is a PDF we are willing to serve as sent."""
    limits = {f"{codec}_maximum_output_length": MAX_INFLATED_BYTES for codec in ("zlib", "lzw", "run_length", "brotli")}
    with apply_configuration(
        **limits,
        zlib_maximum_recovery_input_length=256 * 1024,  # the byte-by-byte repair of damaged zlib data
        stream_decoding_work_maximum_length=4 * MAX_INFLATED_BYTES,
    ):
        try:
            # Counted before pypdf reads the object header each row points at.
            rows = sum(1 for _row in islice(_XREF_ROW.finditer(data), 2 * MAX_OBJECTS + 1))
            if rows > 2 * MAX_OBJECTS:
                raise PdfRefused(INVALID, f"more than {2 * MAX_OBJECTS} cross-reference rows")
            inspection = _Inspection(data=data)
            # Read within the limits before pypdf, whose repair of a broken
            # cross-reference table reads every object without a limit.
            inspection.read_body()
            reader = PdfReader(BytesIO(data), strict=False, xref_stream_maximum_entries=2 * MAX_OBJECTS)
            if reader.is_encrypted:  # before object streams, ciphertext then, are opened
                raise PdfRefused(ENCRYPTED, "the file is encrypted")
            inspection.read_rest(reader=reader)
            inspection.check()
            if len(reader.pages) < 1:
                raise PdfRefused(INVALID, "the file has no page")
        except PdfRefused:
            raise
        except Exception as exc:  # pypdf's errors, limits, and whatever a hostile file provokes
            raise PdfRefused(INVALID, f"unreadable: {exc!r}"[:300]) from exc


class _Header(NamedTuple):
    start: int  # where the object number stands
    end: int  # just after "obj": where the object begins
    key: tuple[int, int]  # number, generation


def _table_rows(data: bytes) -> Iterator[tuple[int, int, int]]:
    """The rows in use of every classic cross-reference table: (number, generation, offset)."""
    for table in _TABLE.finditer(data):
        position = table.end()
        while subsection := _SUBSECTION.match(data, position):
            position = subsection.end()
            for number in range(int(subsection[1]), int(subsection[1]) + int(subsection[2])):
                row = _ROW.match(data, position)
                if row is None:
                    break
                position = row.end()
                if row[3] == b"n":
                    yield number, int(row[2]), int(row[1])


def _headers(data: bytes) -> Iterator[_Header]:
    """The object headers in ``data``, in order. Each object has two "obj" (its
    header and "endobj"): a file with many more is refused before they are all tried."""
    for seen, keyword in enumerate(_KEYWORD.finditer(data)):
        if seen > 4 * MAX_OBJECTS:
            raise PdfRefused(INVALID, f"more than {4 * MAX_OBJECTS} 'obj' keywords")
        start = keyword.start()
        if start == 0 or data[start - 1] not in b"0123456789" + _WHITE_SPACE:
            continue
        numbers = _NUMBERS.search(data, max(0, start - 64), start)
        if numbers:
            yield _Header(numbers.start(), keyword.end(), (int(numbers[1]), int(numbers[2])))


class _StrictParsing:
    """The document pypdf's parser is given for our own reading of each object:
    strict (a damaged dictionary or a duplicate key is an error, not a guess),
    and never looking elsewhere in the file: a stream whose ``/Length`` is a
    reference is read up to its ``endstream``."""

    strict = True

    def get_object(self, reference: IndirectObject) -> None:
        return None


class _Inspection:
    def __init__(self, *, data: bytes) -> None:
        self.data = data
        self.parsing = _StrictParsing()
        self.budget = StreamParsingBudget(remaining_budget=MAX_TOKENS)
        self.objects = 0
        self.rows = 0
        self.inflated = 0
        self.lookups = 0
        # Every definition of every object number, in all revisions and object streams.
        self.defined: dict[tuple[int, int], list[PdfObject]] = {}
        # Where each header was read → its number and generation.
        self.read_at: dict[int, tuple[int, int]] = {}
        # Object streams the cross-reference data puts objects in.
        self.containers: set[int] = set()
        # The members of each object stream, by its number (one list per definition of it).
        self.unpacked: dict[int, list[list[tuple[int, PdfObject]]]] = {}

    # --- Reading every definition ------------------------------------------------------

    def read_body(self) -> None:
        """Every "N G obj" in the file, as written (object streams still packed)."""
        source = BytesIO(self.data)
        parsed_up_to = 0  # the end of the last object read: a header before it lies inside that object
        between = []  # the bytes outside every object read
        for header in _headers(self.data):
            self._count_object()
            source.seek(header.end)
            try:
                obj = self._parse(source)
            except LimitReachedError:
                raise
            except Exception as exc:
                if header.start < parsed_up_to:
                    continue  # stream data that looks like a header (read later if the xref points here)
                raise PdfRefused(INVALID, f"object at byte {header.start} cannot be parsed") from exc
            between.append(self.data[parsed_up_to : header.start])
            parsed_up_to = max(parsed_up_to, source.tell())
            self.read_at[header.start] = header.key
            self.defined.setdefault(header.key, []).append(obj)
        between.append(self.data[parsed_up_to:])
        for name in _NAME.finditer(b" ".join(between)):
            decoded = NameObject.unnumber(name[0]).decode("latin-1")
            if decoded in _NOT_BETWEEN_OBJECTS:
                raise PdfRefused(ACTIVE, f"{decoded} outside every object that could be read")

    def read_rest(self, *, reader: PdfReader) -> None:
        """The objects packed in object streams, and those the cross-reference
        data (of every revision) points at where no header, or another, stands."""
        # pypdf's entries (in use only) for the newest revision, with its repairs; then every revision's.
        plain = [((n, g), offset) for g, rows in reader.xref.items() for n, offset in rows.items() if g != 65535]
        plain += [((number, generation), offset) for number, generation, offset in _table_rows(self.data)]
        packed = [(number, *place) for number, place in reader.xref_objStm.items()]
        for definitions in list(self.defined.values()):
            for obj in definitions:
                if isinstance(obj, StreamObject) and obj.get("/Type") == "/XRef":
                    for kind, number, second, third in self._stream_rows(obj):
                        if kind == 1:
                            plain.append(((number, third), second))
                        elif kind == 2:
                            packed.append((number, second, third))
        self.containers = {container for _number, container, _place in packed}
        for key, definitions in list(self.defined.items()):
            for obj in definitions:
                self._unpack_if_packed(key, obj)
        # Read as the object the entry names, whatever number the header there
        # gives (pypdf, like lenient viewers, takes it).
        source = BytesIO(self.data)
        for key, offset in sorted(set(plain)):
            header = _HEADER_AT.match(self.data, offset) if 0 <= offset < len(self.data) else None
            if self.read_at.get(offset) == key or header is None:
                continue  # no header there: readers search for "number generation obj", read above
            self._count_object()
            source.seek(header.end())
            try:
                obj = self._parse(source)
            except LimitReachedError:
                raise
            except Exception as exc:
                raise PdfRefused(INVALID, f"object {key[0]} {key[1]} cannot be parsed") from exc
            self._define(key, obj)
        # A packed object's entry names its object stream and its place there:
        # whatever stands in that place counts as the object, too.
        for number, container, place in sorted(set(packed)):
            for members in self.unpacked.get(container, ()):
                if 0 <= place < len(members) and members[place][0] != number:
                    self._define((number, 0), members[place][1])

    def _stream_rows(self, stream: StreamObject) -> Iterator[tuple[int, int, int, int]]:
        """The entries of a cross-reference stream: (type, number, field 2, field 3)."""
        data = self._inflate(stream)
        widths, size = stream.get("/W"), stream.get("/Size")
        index = stream.get("/Index", ArrayObject([NumberObject(0), size]))
        numbers = [*(widths if isinstance(widths, ArrayObject) else ()), *index]
        if len(widths or ()) != 3 or not all(isinstance(n, NumberObject) and n >= 0 for n in numbers):
            raise PdfRefused(INVALID, "a cross-reference stream with a bad /W or /Index")
        if not 0 < sum(widths) <= 24 or max(widths) > 8:
            raise PdfRefused(INVALID, "a cross-reference stream with a bad /W")
        position = 0
        for first, count in zip(index[::2], index[1::2], strict=False):
            for number in range(first, first + min(count, len(data) // sum(widths) + 1)):
                if position + sum(widths) > len(data):
                    return
                fields = []
                for width in widths:
                    default = 0 if fields else 1  # a type left out is 1, other fields 0
                    fields.append(int.from_bytes(data[position : position + width], "big") if width else default)
                    position += width
                self.rows += 1
                if self.rows > 2 * MAX_OBJECTS:
                    raise PdfRefused(INVALID, f"more than {2 * MAX_OBJECTS} cross-reference entries")
                yield fields[0], number, fields[1], fields[2]

    def check(self) -> None:
        for key, definitions in self.defined.items():
            for obj in definitions:
                self._check_everywhere(obj, f"object {key[0]} {key[1]}")

    def _define(self, key: tuple[int, int], obj: PdfObject) -> None:
        self.defined.setdefault(key, []).append(obj)
        self._unpack_if_packed(key, obj)

    def _unpack_if_packed(self, key: tuple[int, int], obj: PdfObject) -> None:
        if isinstance(obj, StreamObject) and (
            obj.get("/Type") == "/ObjStm"
            or (key[1] == 0 and key[0] in self.containers)
            or ("/N" in obj and "/First" in obj)
        ):
            members = self._unpack(key[0], obj)
            self.unpacked.setdefault(key[0], []).append(members)
            for number, member in members:
                self._define((number, 0), member)

    def _unpack(self, container: int, stream: StreamObject) -> list[tuple[int, PdfObject]]:
        """The numbered objects of an object stream, decompressed within the limits."""
        data = self._inflate(stream)
        count, first = stream.get("/N"), stream.get("/First")
        if not isinstance(count, NumberObject) or not isinstance(first, NumberObject):
            raise PdfRefused(INVALID, f"object stream {container} has no /N or /First")
        if not 0 <= count <= len(data) // 3 or not 0 <= first <= len(data):
            raise PdfRefused(INVALID, f"object stream {container} has a bad /N or /First")
        index = data[:first].split()
        if len(index) < 2 * count or not all(part.isdigit() for part in index[: 2 * count]):
            raise PdfRefused(INVALID, f"object stream {container} has a bad index")
        source = BytesIO(data)
        members = []
        for position in range(count):
            number, offset = int(index[2 * position]), int(index[2 * position + 1])
            self._count_object()
            source.seek(first + offset)
            try:
                members.append((number, self._parse(source)))
            except LimitReachedError:
                raise
            except Exception as exc:
                raise PdfRefused(INVALID, f"object {number} in object stream {container} cannot be parsed") from exc
        return members

    def _inflate(self, stream: StreamObject) -> bytes:
        data = stream.get_data()  # bounded by the configuration pdf_check applies
        self.inflated += len(data)
        if len(data) >= MAX_INFLATED_BYTES or self.inflated > MAX_INFLATED_BYTES:
            raise PdfRefused(INVALID, f"streams decompress to more than {MAX_INFLATED_BYTES} bytes")
        return data

    def _parse(self, source: BytesIO) -> PdfObject:
        char = source.read(1)
        while char and char in _WHITE_SPACE:
            char = source.read(1)
        source.seek(-len(char), 1)
        return read_object(source, self.parsing, parsing_budget=self.budget)

    def _count_object(self) -> None:
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise PdfRefused(INVALID, f"more than {MAX_OBJECTS} objects")

    # --- The rules ---------------------------------------------------------------------

    def _check_everywhere(self, obj: PdfObject, where: str) -> None:
        """Every dictionary inside ``obj`` (references are not followed: what
        they point at is checked as a definition of its own)."""
        pending = [obj]
        while pending:
            item = pending.pop()
            if isinstance(item, DictionaryObject):
                self._check_dictionary(item, where)
                pending.extend(item.values())  # dict.values: references stay unresolved
            elif isinstance(item, ArrayObject):
                pending.extend(item)

    def _check_dictionary(self, entry: DictionaryObject, where: str) -> None:
        for key, what in _REFUSED_KEYS.items():
            if key in entry:
                raise PdfRefused(ACTIVE, f"{what} ({key}) in {where}")
        kinds = self._names(entry.get("/S"))
        if kinds & _REFUSED_ACTIONS:
            raise PdfRefused(ACTIVE, f"a {' '.join(sorted(kinds & _REFUSED_ACTIONS))} action in {where}")
        if "/URI" in kinds and any(_SCRIPT_SCHEME.match(text) for text in self._texts(entry.get("/URI"))):
            raise PdfRefused(ACTIVE, f"a javascript: link in {where}")
        if "/EmbeddedFile" in self._names(entry.get("/Type")):
            raise PdfRefused(ACTIVE, f"an embedded file stream in {where}")
        subtypes = self._names(entry.get("/Subtype")) & _REFUSED_SUBTYPES
        if subtypes:
            raise PdfRefused(ACTIVE, f"a {' '.join(sorted(subtypes))} annotation in {where}")
        if "/OpenAction" in entry:
            self._check_navigation_only(entry.get("/OpenAction"), f"the /OpenAction of {where}")
        if "/AA" in entry:
            for triggers in self._values(entry.get("/AA")):
                if isinstance(triggers, DictionaryObject):
                    for trigger, action in triggers.items():
                        self._check_navigation_only(action, f"the {trigger} additional action of {where}")

    def _check_navigation_only(self, value: PdfObject | None, where: str) -> None:
        """What runs by itself may only move inside the document: a destination,
        or a chain of /GoTo and page-turning /Named actions."""
        pending = self._values(value)
        seen: set[int] = set()
        while pending:
            target = pending.pop()
            if isinstance(target, _DESTINATIONS):
                continue
            if not isinstance(target, DictionaryObject):
                raise PdfRefused(ACTIVE, f"{where} is neither a destination nor an action")
            if id(target) in seen:
                continue  # a chain that loops back: each action is checked once
            seen.add(id(target))
            if len(seen) > MAX_ACTIONS:
                raise PdfRefused(INVALID, f"{where} chains more than {MAX_ACTIONS} actions")
            kinds = self._names(target.get("/S"))
            for kind in kinds or {"(no /S)"}:
                if kind == "/GoTo":
                    continue
                turns = self._names(target.get("/N"))
                if kind == "/Named" and turns and turns <= _PAGE_TURNS:
                    continue
                raise PdfRefused(ACTIVE, f"{where} runs a {kind} action, not navigation inside the document")
            for following in self._values(target.get("/Next")):
                if isinstance(following, ArrayObject):
                    for item in following:
                        pending.extend(a for a in self._values(item) if not isinstance(a, ArrayObject))
                else:
                    pending.append(following)

    # --- Following references ----------------------------------------------------------

    def _values(self, value: PdfObject | None) -> list[PdfObject]:
        """What ``value`` stands for: itself, or if it is a reference, every
        definition of the object it names (in all revisions), followed through
        further references. An undefined or circular reference stands for nothing."""
        values: list[PdfObject] = []
        pending = [value]
        seen: set[tuple[int, int]] = set()
        while pending:
            item = pending.pop()
            if item is None:
                continue
            if not isinstance(item, IndirectObject):
                values.append(item)
                continue
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            definitions = self.defined.get(key, ())
            self.lookups += 1 + len(definitions)
            if self.lookups > MAX_LOOKUPS:
                raise PdfRefused(INVALID, f"more than {MAX_LOOKUPS} references followed")
            pending.extend(definitions)
        return values

    def _names(self, value: PdfObject | None) -> set[str]:
        return {str(item) for item in self._values(value) if isinstance(item, NameObject)}

    def _texts(self, value: PdfObject | None) -> list[str]:
        texts = []
        for item in self._values(value):
            if isinstance(item, ByteStringObject):
                texts.append(bytes(item).decode("latin-1"))
            elif isinstance(item, str):
                texts.append(str(item))
        # Browsers drop tabs and line breaks anywhere in an address, "java\tscript:" included.
        return [re.sub(r"[\t\n\r]", "", text) for text in texts]
