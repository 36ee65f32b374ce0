"""The PDF check (tickets.pdf_safety) on files written by hand in the test,
each playing one trick: what runs by itself must only move inside the
document, and no script, launch, form submission or attached file may hide
anywhere — behind a reference, in a compressed object stream, in an
incremental update, in a revision a later one superseded, or behind an escaped
name. Hostile structure (cycles, bombs, too many objects) is refused or
accepted in bounded time, never with another exception. Then the object-stream
bypass the penetration test found, sent through the complaint form and the API."""

import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.tokens import staff_token_create
from tests.api.conftest import bearer
from tests.builders import ticket_filed
from tests.tickets.pdf_builder import PdfBuilder, one_page
from tests.tickets.test_consumer import NEW, valid
from tickets import pdf_safety
from tickets.models import Attachment, Message, Ticket
from tickets.uploads import evidence_clean

ACTIVE, INVALID = "pdf_active_content", "invalid_pdf"
JS = "<< /S /JavaScript /JS (app.alert('pwned')) >>"
LINK = "/Type /Annot /Subtype /Link /Rect [10 10 190 40] /Border [0 0 0]"


def upload(data: bytes, name: str = "receipt.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def refusal_code(data: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        evidence_clean(upload(data))
    assert "“receipt.pdf”" in caught.value.messages[0]
    return caught.value.code


def with_annotation(annotation: str, *, packed: bool = False, xref: str = "table") -> bytes:
    """One page carrying annotation object 6."""
    pdf = one_page(PdfBuilder(), page="/Annots [6 0 R]", packed=packed)
    return pdf.add(6, f"<< {annotation} >>", packed=packed).save(xref=xref).data


def object_stream_bypass() -> bytes:
    """The penetration test's file: the catalog's /OpenAction is a reference to a
    JavaScript action, both packed in a compressed object stream, listed by a
    cross-reference stream, so neither "/JavaScript" nor the action is in the raw bytes."""
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R", packed=True)
    data = pdf.add(6, JS, packed=True).save(xref="stream").data
    assert b"JavaScript" not in data and b"/JS" not in data
    return data


# --- Hostile files, one trick each ------------------------------------------------------


def javascript_open_action() -> bytes:
    return one_page(PdfBuilder(), catalog=f"/OpenAction {JS}").save().data


def page_aa_javascript_in_object_stream() -> bytes:
    """The page runs a script when opened (/AA /O), the action packed away."""
    pdf = one_page(PdfBuilder(), page="/AA << /O 6 0 R >>", packed=True)
    return pdf.add(6, JS, packed=True).save(xref="stream").data


def annotation_aa_opens_a_web_page() -> bytes:
    """Hovering the link (/AA /E) opens a page: not navigation inside the document."""
    return with_annotation(f"{LINK} /AA << /E << /S /URI /URI (https://phish.example/) >> >>")


def form_field_aa_resets_the_form() -> bytes:
    """A form field's keystroke action (/AA /K) is not navigation."""
    pdf = one_page(PdfBuilder(), catalog="/AcroForm << /Fields [6 0 R] >>", page="/Annots [6 0 R]")
    field = "/Type /Annot /Subtype /Widget /FT /Tx /T (name) /Rect [10 10 190 40] /P 3 0 R"
    return pdf.add(6, f"<< {field} /AA << /K << /S /ResetForm >> >> >>").save().data


def open_action_opens_a_web_page() -> bytes:
    return one_page(PdfBuilder(), catalog="/OpenAction << /S /URI /URI (https://phish.example/) >>").save().data


def open_action_prints() -> bytes:
    """/Named is allowed only to turn pages; /Print is not that."""
    return one_page(PdfBuilder(), catalog="/OpenAction << /S /Named /N /Print >>").save().data


def launch_behind_a_link() -> bytes:
    return with_annotation(f"{LINK} /A << /S /Launch /F (C:\\\\Windows\\\\System32\\\\cmd.exe) >>")


def next_chain_from_goto_to_javascript() -> bytes:
    """An allowed /GoTo whose /Next (an array) leads, by reference, to a script."""
    catalog = "/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [7 0 R] >>"
    return one_page(PdfBuilder(), catalog=catalog, packed=True).add(7, JS, packed=True).save(xref="stream").data


def next_chain_from_page_turn_to_web_page() -> bytes:
    """Allowed page turn, then (a single /Next, by reference) a web page: the chain is followed."""
    catalog = "/OpenAction << /S /Named /N /NextPage /Next 7 0 R >>"
    pdf = one_page(PdfBuilder(), catalog=catalog)
    return pdf.add(7, "<< /S /URI /URI (https://phish.example/) >>").save().data


def javascript_name_tree() -> bytes:
    return one_page(PdfBuilder(), catalog="/Names << /JavaScript << /Names [] >> >>").save().data


def embedded_files() -> bytes:
    pdf = one_page(PdfBuilder(), catalog="/Names << /EmbeddedFiles << /Names [(invoice.exe) 6 0 R] >> >>")
    pdf.add(6, "<< /Type /Filespec /F (invoice.exe) /EF << /F 7 0 R >> >>")
    return pdf.stream(7, "/Type /EmbeddedFile", b"MZ\x90\x00").save().data


def embedded_file_stream_alone() -> bytes:
    """An /EmbeddedFile stream nothing points at: still refused."""
    return one_page(PdfBuilder()).stream(6, "/Type /EmbeddedFile", b"MZ\x90\x00").save().data


def file_attachment_annotation() -> bytes:
    return with_annotation("/Type /Annot /Subtype /FileAttachment /Rect [10 10 30 30] /FS (invoice.exe)")


def rich_media_annotation() -> bytes:
    return with_annotation("/Type /Annot /Subtype /RichMedia /Rect [10 10 190 190]")


def xfa_form() -> bytes:
    pdf = one_page(PdfBuilder(), catalog="/AcroForm << /Fields [] /XFA 6 0 R >>")
    return pdf.stream(6, "", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>").save().data


def submit_form_behind_a_link() -> bytes:
    return with_annotation(f"{LINK} /A << /S /SubmitForm /F << /FS /URL /F (https://collect.example/) >> >>")


def import_data_behind_a_link() -> bytes:
    return with_annotation(f"{LINK} /A << /S /ImportData /F (answers.fdf) >>")


def javascript_address_behind_a_link() -> bytes:
    return with_annotation(f"{LINK} /A << /S /URI /URI (java\tscript:alert\\(1\\)) >>")


def escaped_names() -> bytes:
    """/J#61vaScript is /JavaScript and /J#53 is /JS, once the name is decoded."""
    data = one_page(PdfBuilder(), catalog="/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>").save().data
    assert b"/JavaScript" not in data and b"/JS" not in data
    return data


def javascript_in_an_incremental_update() -> bytes:
    pdf = one_page(PdfBuilder()).save()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", packed=True).add(6, JS, packed=True)
    return pdf.save(xref="stream").data


def javascript_superseded_by_a_later_revision() -> bytes:
    """Revision 1 opens with a script; revision 2 drops /OpenAction and redefines
    the action as null. Refused all the same: the bytes are served as sent, and
    an earlier revision is one cut of the file away (and some tools show it)."""
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R", packed=True).add(6, JS, packed=True)
    pdf.save(xref="stream")
    return pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>").add(6, "null").save(xref="stream").data


def xref_names_a_header_of_another_generation() -> bytes:
    """The xref says object 6 0 stands where "6 1 obj" is written: pypdf (and a
    lenient viewer) read it as 6 0 all the same, so the check does too."""
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R")
    pdf.add(6, "<< /S /URI /URI (https://phish.example/) >>", generation=1).save()
    return pdf.listed_at(6, pdf.data.index(b"6 1 obj")).save().data


def packed_object_named_by_its_place() -> bytes:
    """The xref says object 6 is the first in object stream 8, whose index calls
    that object 9: what stands at the place counts as 6 too."""
    packed = b"9 0 << /S /URI /URI (https://phish.example/) >>"
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R", packed=True)
    pdf.stream(8, "/Type /ObjStm /N 1 /First 4", packed, deflate=True)
    return pdf.listed_in_stream(6, container=8, index=0).save(xref="stream").data


def written_by_hand(header: bytes, *, listed: bool = True) -> bytes:
    """Object 6, a web page opened with the document, under an odd ``header``
    that a lenient lexer still takes for "6 0 obj"."""
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R")
    offset = len(pdf.out)
    pdf.out += header + b" << /S /URI /URI (https://phish.example/) >>\nendobj\n"
    return (pdf.listed_at(6, offset) if listed else pdf).save().data


def header_without_space_before_obj() -> bytes:
    return written_by_hand(b"6 0obj")


def header_with_a_comment_inside() -> bytes:
    return written_by_hand(b"6 0 % made by hand\nobj")


def action_where_no_known_header_stands() -> bytes:
    """Not listed, and a header too odd for the body scan: the action's names
    stand outside every object read, where only tables and trailers belong."""
    return written_by_hand(b"6 0" + b" " * 100 + b"obj", listed=False)


def object_hidden_in_stream_data() -> bytes:
    """An object written inside another's stream data, with a duplicate key (a
    reader keeps the /GoTo, another the /URI), which the xref points at."""
    hidden = b"6 0 obj\n<< /S /GoTo /D [3 0 R /Fit] /S /URI /URI (https://phish.example/) >>\nendobj"
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R").stream(10, "", hidden).save()
    return pdf.listed_at(6, pdf.data.index(b"6 0 obj")).save().data


def duplicate_key_hides_a_web_page() -> bytes:
    """Two /S keys: one reader sees /GoTo, another /URI. Not read by guessing: unreadable."""
    catalog = "/OpenAction << /S /GoTo /D [3 0 R /Fit] /S /URI /URI (https://phish.example/) >>"
    return one_page(PdfBuilder(), catalog=catalog).save().data


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (javascript_open_action, ACTIVE),
        (object_stream_bypass, ACTIVE),
        (page_aa_javascript_in_object_stream, ACTIVE),
        (annotation_aa_opens_a_web_page, ACTIVE),
        (form_field_aa_resets_the_form, ACTIVE),
        (open_action_opens_a_web_page, ACTIVE),
        (open_action_prints, ACTIVE),
        (launch_behind_a_link, ACTIVE),
        (next_chain_from_goto_to_javascript, ACTIVE),
        (next_chain_from_page_turn_to_web_page, ACTIVE),
        (javascript_name_tree, ACTIVE),
        (embedded_files, ACTIVE),
        (embedded_file_stream_alone, ACTIVE),
        (file_attachment_annotation, ACTIVE),
        (rich_media_annotation, ACTIVE),
        (xfa_form, ACTIVE),
        (submit_form_behind_a_link, ACTIVE),
        (import_data_behind_a_link, ACTIVE),
        (javascript_address_behind_a_link, ACTIVE),
        (escaped_names, ACTIVE),
        (javascript_in_an_incremental_update, ACTIVE),
        (javascript_superseded_by_a_later_revision, ACTIVE),
        (xref_names_a_header_of_another_generation, ACTIVE),
        (packed_object_named_by_its_place, ACTIVE),
        (header_without_space_before_obj, ACTIVE),
        (header_with_a_comment_inside, ACTIVE),
        (action_where_no_known_header_stands, ACTIVE),
        (object_hidden_in_stream_data, INVALID),
        (duplicate_key_hides_a_web_page, INVALID),
    ],
    ids=lambda value: value.__name__.replace("_", "-") if callable(value) else None,
)
def test_a_hostile_file_is_refused_with_its_code(make, code):
    assert refusal_code(make()) == code


# --- Ordinary files pass, kept byte for byte ----------------------------------------------


def two_pages_with_an_internal_link() -> bytes:
    pdf = one_page(PdfBuilder(), page="/Annots [6 0 R]", pages=2)
    return pdf.add(6, f"<< {LINK} /A << /S /GoTo /D [20 0 R /XYZ 0 200 0] >> >>").save().data


def external_web_link() -> bytes:
    """An ordinary clickable link is not an automatic action."""
    return with_annotation(f"{LINK} /A << /S /URI /URI (https://item.taobao.com/item.htm?id=9001) >>")


def opens_at_an_explicit_destination() -> bytes:
    return one_page(PdfBuilder(), catalog="/OpenAction [3 0 R /Fit]").save().data


def opens_with_page_turns_and_goto() -> bytes:
    catalog = "/OpenAction << /S /Named /N /FirstPage /Next [<< /S /GoTo /D (summary) >>] >> /PageMode /UseNone"
    return one_page(PdfBuilder(), catalog=catalog).save().data


def object_streams_and_an_xref_stream() -> bytes:
    return with_annotation(f"{LINK} /A << /S /URI /URI (https://www.jd.com/) >>", packed=True, xref="stream")


def incremental_update() -> bytes:
    """A viewer's "save": revision 2 adds a link and points the page at it."""
    pdf = one_page(PdfBuilder(), packed=True).save(xref="stream")
    pdf.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Annots [6 0 R] >>")
    return pdf.add(6, f"<< {LINK} /A << /S /GoTo /D [3 0 R /Fit] >> >>").save(xref="stream").data


@pytest.mark.parametrize(
    "make",
    [
        lambda: one_page(PdfBuilder()).save().data,
        two_pages_with_an_internal_link,
        external_web_link,
        opens_at_an_explicit_destination,
        opens_with_page_turns_and_goto,
        object_streams_and_an_xref_stream,
        incremental_update,
    ],
    ids=lambda make: "plain-one-page" if make.__name__ == "<lambda>" else make.__name__.replace("_", "-"),
)
def test_an_ordinary_file_passes_unchanged(make):
    data = make()
    started = time.perf_counter()
    clean = evidence_clean(upload(data))
    assert time.perf_counter() - started < 1  # checked in about a millisecond; one second is a hang
    assert (clean.content, clean.content_type, clean.extension) == (data, "application/pdf", ".pdf")


# --- Hostile structure: bounded work, one kind of exception ------------------------------------


def test_a_decompression_bomb_in_an_object_stream_is_refused_quickly_in_bounded_memory():
    # 200 MB of spaces after one object, deflated to about 200 kB.
    squeeze = zlib.compressobj(9)
    bomb = squeeze.compress(b"7 0 << /S /GoTo /D [3 0 R /Fit] >>")
    bomb += b"".join(squeeze.compress(b" " * 1_000_000) for _ in range(200)) + squeeze.flush()
    pdf = one_page(PdfBuilder(), packed=True)
    pdf.stream(8, "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", bomb)
    data = pdf.listed_in_stream(7, container=8, index=0).save(xref="stream").data
    assert len(data) < settings.EVIDENCE_MAX_FILE_BYTES
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = refusal_code(data)
        elapsed = time.perf_counter() - started
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == INVALID
    assert elapsed < 2
    assert peak < 4 * pdf_safety.MAX_INFLATED_BYTES + 2 * len(data)  # never the 200 MB


def test_a_decompression_bomb_in_the_xref_stream_is_refused():
    squeeze = zlib.compressobj(9)
    rows = b"".join(squeeze.compress(b"\x00" * 1_000_000) for _ in range(100)) + squeeze.flush()
    pdf = one_page(PdfBuilder()).save()
    start = len(pdf.out)
    pdf.out += b"9 0 obj\n<< /Type /XRef /W [1 4 2] /Size 10 /Root 1 0 R /Prev %d " % pdf.previous
    pdf.out += b"/Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(rows), rows)
    pdf.out += b"startxref\n%d\n%%%%EOF\n" % start
    assert refusal_code(pdf.data) == INVALID


def circular_references() -> bytes:
    """/OpenAction names object 6, which is a reference to 7, which refers back
    to 6: it stands for nothing, and nothing runs."""
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R")
    return pdf.add(6, "7 0 R").add(7, "6 0 R").save().data


def actions_chained_in_a_loop() -> bytes:
    """Two /GoTo actions each naming the other as /Next: each is checked once."""
    pdf = one_page(PdfBuilder(), catalog="/OpenAction 6 0 R")
    pdf.add(6, "<< /S /GoTo /D [3 0 R /Fit] /Next 7 0 R >>")
    return pdf.add(7, "<< /S /GoTo /D [3 0 R /FitH 100] /Next [6 0 R 7 0 R] >>").save().data


@pytest.mark.parametrize("make", [circular_references, actions_chained_in_a_loop], ids=["references", "actions"])
def test_a_cycle_is_followed_once_and_accepted_as_it_runs_nothing(make):
    data = make()
    started = time.perf_counter()
    assert evidence_clean(upload(data)).content == data
    assert time.perf_counter() - started < 1


def test_a_page_tree_that_contains_itself_is_refused_as_unreadable_without_hanging():
    pdf = PdfBuilder().add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    data = pdf.add(2, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>").save().data
    started = time.perf_counter()
    assert refusal_code(data) == INVALID
    assert time.perf_counter() - started < 1


def test_more_objects_than_the_check_reads_is_refused_as_unreadable(monkeypatch):
    monkeypatch.setattr(pdf_safety, "MAX_OBJECTS", 40)
    pdf = one_page(PdfBuilder())
    for number in range(100, 140):
        pdf.add(number, f"<< /Index {number} >>")
    assert refusal_code(pdf.save().data) == INVALID


def test_deeply_nested_arrays_are_refused_as_unreadable():
    data = one_page(PdfBuilder(), catalog="/Deep " + "[" * 50_000 + "]" * 50_000).save().data
    assert refusal_code(data) == INVALID


def test_pypdf_never_repairs_more_than_the_check_has_read(monkeypatch):
    """A broken startxref makes pypdf rebuild the cross-reference data by reading
    every object, without a limit (seconds for this file): the body is read
    within the token limit first, so the file is refused before that."""
    monkeypatch.setattr(pdf_safety, "MAX_TOKENS", 10_000)
    pdf = one_page(PdfBuilder())
    for number in range(100, 120):
        pdf.add(number, "[" + "0 " * 90_000 + "]")
    data = pdf.save().data
    data = data[: data.rindex(b"startxref")] + b"startxref\n12\n%%EOF\n"
    started = time.perf_counter()
    assert refusal_code(data) == INVALID
    assert time.perf_counter() - started < 1


def test_encryption_is_recognised_before_object_streams_are_opened():
    """Object streams of an encrypted file are ciphertext: the file is refused as
    encrypted (the sender is told to remove the password), not as unreadable."""
    pdf = PdfBuilder()
    pdf.stream(1, "/Type /ObjStm /N 3 /First 12 /Filter /FlateDecode", b"\x8f\x13 ciphertext \x02\xfe")
    pdf.listed_in_stream(2, container=1, index=0).listed_in_stream(3, container=1, index=1)
    encrypt = "/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /O <00> /U <00> /P -4 >> /ID [<01> <01>]"
    assert refusal_code(pdf.save(root=2, xref="stream", trailer=encrypt).data) == "pdf_encrypted"


# --- From the outside: the bypass through the form and the API ------------------------------------


def stored_files() -> set[Path]:
    root = Path(settings.EVIDENCE_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.mark.django_db
def test_the_complaint_form_refuses_the_bypass_and_files_nothing(client, category):
    before = stored_files()
    client.cookies["django_language"] = "en"
    response = client.post("/en" + NEW, valid(category) | {"evidence": [upload(object_stream_bypass())]})
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()["evidence"]
    assert [e.code for e in errors] == ["pdf_active_content"]
    assert "“receipt.pdf” contains scripts or attached files" in errors[0].messages[0]
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert stored_files() == before


@pytest.mark.django_db
def test_the_api_refuses_the_bypass_and_stores_nothing(client, agent, category):
    ticket = ticket_filed(category)
    key = staff_token_create(user=agent, name="chat tool")[1]
    messages, before = Message.objects.count(), stored_files()
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"body": "客户发来的收据", "internal": "true", "files": [upload(object_stream_bypass())]},
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(key),
    )
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]["files.0"]
    assert "“receipt.pdf” contains scripts or attached files" in error["message"]
    assert Message.objects.count() == messages and not Attachment.objects.exists()
    assert stored_files() == before
