"""PDF files written by hand for the tests, byte by byte, so each trick a
hostile file plays can be played on its own: objects written plainly or packed
into a zlib-compressed object stream, a classic cross-reference table or a
cross-reference stream, and incremental updates appended to what is there.

    pdf = PdfBuilder()
    one_page(pdf, catalog="/OpenAction 6 0 R")
    pdf.add(6, "<< /S /JavaScript /JS (app.alert(1)) >>", packed=True)
    data = pdf.save(xref="stream").data
"""

from __future__ import annotations

import zlib


class PdfBuilder:
    def __init__(self, version: str = "1.7") -> None:
        self.out = bytearray(f"%PDF-{version}\n%".encode() + b"\xe2\xe3\xcf\xd3\n")
        self.plain: list[tuple[int, int, bytes]] = []  # the open revision's objects, written as they are
        self.packed: list[tuple[int, bytes]] = []  # … and those packed into its object stream
        self.listed: dict[int, tuple[int, int, int]] = {}  # extra cross-reference entries: number → entry
        self.size = 1
        self.machinery = 900  # object streams and cross-reference streams, out of the tests' way
        self.previous: int | None = None  # where the last revision's cross-reference section starts

    @property
    def data(self) -> bytes:
        return bytes(self.out)

    def add(self, number: int, body: str | bytes, *, generation: int = 0, packed: bool = False) -> PdfBuilder:
        """Define object ``number`` in the open revision."""
        body = body.encode("latin-1") if isinstance(body, str) else body
        if packed:
            self.packed.append((number, body))
        else:
            self.plain.append((number, generation, body))
        self.size = max(self.size, number + 1)
        return self

    def stream(self, number: int, dictionary: str, data: bytes, *, deflate: bool = False) -> PdfBuilder:
        """A stream object; ``dictionary`` without /Length (added here)."""
        if deflate:
            data, dictionary = zlib.compress(data), f"{dictionary} /Filter /FlateDecode"
        head = f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode("latin-1")
        return self.add(number, head + data + b"\nendstream")

    def listed_at(self, number: int, offset: int, *, generation: int = 0) -> PdfBuilder:
        """A cross-reference entry saying object ``number`` stands at byte ``offset``
        (wherever that is: the test decides what is there)."""
        self.listed[number] = (1, offset, generation)
        self.size = max(self.size, number + 1)
        return self

    def listed_in_stream(self, number: int, *, container: int, index: int) -> PdfBuilder:
        """A cross-reference entry saying object ``number`` is the ``index``-th of
        object stream ``container`` (which the test writes itself)."""
        self.listed[number] = (2, container, index)
        self.size = max(self.size, number + 1)
        return self

    def save(self, *, root: int = 1, xref: str = "table", trailer: str = "") -> PdfBuilder:
        """Close the open revision: its objects, a cross-reference ``"table"`` or
        ``"stream"`` for them, the trailer (with /Prev after the first, and
        ``trailer`` added), %%EOF."""
        entries: dict[int, tuple[int, int, int]] = {} if self.previous is not None else {0: (0, 0, 65535)}
        for number, generation, body in self.plain:
            entries[number] = (1, len(self.out), generation)
            self.out += b"%d %d obj\n%s\nendobj\n" % (number, generation, body)
        if self.packed:
            container = self._machinery()
            index, bodies = [], b""
            for number, body in self.packed:
                index.append(b"%d %d" % (number, len(bodies)))
                bodies += body + b"\n"
            head = b" ".join(index) + b"\n"
            packed = zlib.compress(head + bodies)
            entries[container] = (1, len(self.out), 0)
            self.out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
                container,
                len(self.packed),
                len(head),
                len(packed),
            )
            self.out += packed + b"\nendstream\nendobj\n"
            for position, (number, _body) in enumerate(self.packed):
                entries[number] = (2, container, position)
        entries.update(self.listed)
        prev = f" /Prev {self.previous}" if self.previous is not None else ""
        prev += f" {trailer}" if trailer else ""
        start = len(self.out)
        if xref == "table":
            self._table(entries, f"/Size {self.size} /Root {root} 0 R{prev}")
        else:
            number = self._machinery()
            entries[number] = (1, start, 0)
            self._xref_stream(number, entries, f"/Size {self.size} /Root {root} 0 R{prev}")
        self.out += b"startxref\n%d\n%%%%EOF\n" % start
        self.previous = start
        self.plain, self.packed, self.listed = [], [], {}
        return self

    def _machinery(self) -> int:
        self.machinery += 1
        self.size = max(self.size, self.machinery + 1)
        return self.machinery

    def _table(self, entries: dict[int, tuple[int, int, int]], trailer: str) -> None:
        if any(kind == 2 for kind, _a, _b in entries.values()):
            raise ValueError("a cross-reference table cannot list packed objects: save(xref='stream')")
        self.out += b"xref\n"
        for first, numbers in _runs(entries):
            self.out += b"%d %d\n" % (first, len(numbers))
            for number in numbers:
                kind, offset, generation = entries[number]
                self.out += b"%010d %05d %s \n" % (offset, generation, b"n" if kind else b"f")
        self.out += f"trailer\n<< {trailer} >>\n".encode()

    def _xref_stream(self, number: int, entries: dict[int, tuple[int, int, int]], trailer: str) -> None:
        index, rows = [], b""
        for first, numbers in _runs(entries):
            index += [first, len(numbers)]
            for n in numbers:
                kind, second, third = entries[n]
                rows += kind.to_bytes(1, "big") + second.to_bytes(4, "big") + third.to_bytes(2, "big")
        packed = zlib.compress(rows)
        dictionary = (
            f"<< /Type /XRef /W [1 4 2] /Index [{' '.join(map(str, index))}] {trailer} "
            f"/Filter /FlateDecode /Length {len(packed)} >>"
        )
        self.out += b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, dictionary.encode(), packed)


def _runs(entries: dict) -> list[tuple[int, list[int]]]:
    """The numbers of ``entries`` as runs of consecutive numbers: the subsections."""
    runs: list[tuple[int, list[int]]] = []
    for number in sorted(entries):
        if runs and runs[-1][1][-1] == number - 1:
            runs[-1][1].append(number)
        else:
            runs.append((number, [number]))
    return runs


def one_page(pdf: PdfBuilder, *, catalog: str = "", page: str = "", packed: bool = False, pages: int = 1) -> PdfBuilder:
    """Objects 1–5 (and one more per extra page from 20): the catalog (with
    ``catalog`` added), the page tree, a page with a line of text (with
    ``page`` added), its content stream and its font."""
    kids = ["3 0 R", *(f"{20 + n} 0 R" for n in range(pages - 1))]
    pdf.add(1, f"<< /Type /Catalog /Pages 2 0 R {catalog} >>", packed=packed)
    pdf.add(2, f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>", packed=packed)
    for kid in kids:
        extra = page if kid == "3 0 R" else ""
        pdf.add(
            int(kid.split()[0]),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 5 0 R >> >> "
            f"/Contents 4 0 R {extra} >>",
            packed=packed,
        )
    pdf.stream(4, "", b"BT /F1 12 Tf 20 100 Td (Order 9001: refund not received) Tj ET", deflate=True)
    pdf.add(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", packed=packed)
    return pdf
