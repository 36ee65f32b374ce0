"""The upload checks on real files made in the test: what is accepted comes out
clean, what is refused is refused by content with a message naming the file."""

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, PngImagePlugin
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from tickets.uploads import display_name, evidence_clean


def image_bytes(fmt: str, size=(60, 40), mode="RGB", **save) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, 0 if mode in ("1", "L") else (200, 30, 40)).save(buffer, fmt, **save)
    return buffer.getvalue()


def pdf_bytes(*, javascript: str | None = None, password: str | None = None, attachment: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if javascript:
        writer.add_open_action(JavaScript(javascript))
    if attachment:
        writer.add_attachment("payload.exe", b"MZ\x90\x00")
    if password:
        writer.encrypt(password)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(name: str, content: bytes, content_type: str = "image/png") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        evidence_clean(upload(name, content, content_type))
    return caught.value


def test_a_png_is_accepted_and_its_text_chunks_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-home-address")
    clean = evidence_clean(upload("chat.png", image_bytes("PNG", pnginfo=info), "image/png"))
    assert (clean.content_type, clean.extension, clean.width, clean.height) == ("image/png", ".png", 60, 40)
    assert b"secret-home-address" not in clean.content
    assert Image.open(BytesIO(clean.content)).format == "PNG"


def test_a_jpeg_loses_its_gps_exif_and_is_turned_upright():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 13.0, 50.0), 3: "E", 4: (121.0, 28.0, 20.0)})
    clean = evidence_clean(upload("photo.jpg", image_bytes("JPEG", size=(80, 40), exif=exif), "image/jpeg"))
    out = Image.open(BytesIO(clean.content))
    assert clean.content_type == "image/jpeg"
    assert not out.getexif() and b"Exif" not in clean.content and b"PhoneMaker" not in clean.content
    assert (clean.width, clean.height) == (40, 80) == out.size


def test_a_pdf_is_kept_as_sent():
    data = pdf_bytes()
    clean = evidence_clean(upload("receipt.pdf", data, "application/pdf"))
    assert (clean.content_type, clean.extension, clean.content) == ("application/pdf", ".pdf", data)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("photo.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500, "unsupported_type"),
        ("x.png", b"<html><script>alert(1)</script></html>", "unsupported_type"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "unsupported_type"),
        ("archive.png", b"PK\x03\x04" + b"\x00" * 100, "unsupported_type"),
        ("cut.png", image_bytes("PNG", size=(300, 300))[:200], "invalid_image"),
        ("script.pdf", pdf_bytes(javascript="app.alert(1)"), "pdf_active_content"),
        ("carrier.pdf", pdf_bytes(attachment=True), "pdf_active_content"),
        ("locked.pdf", pdf_bytes(password="1234"), "pdf_encrypted"),
        ("broken.pdf", b"%PDF-1.7\n garbage", "invalid_pdf"),
        ("empty.png", b"", "empty"),
    ],
    ids=[
        "exe-renamed",
        "html-as-png",
        "svg",
        "zip",
        "truncated-png",
        "pdf-javascript",
        "pdf-attachment",
        "pdf-encrypted",
        "pdf-garbage",
        "empty",
    ],
)
def test_refused_by_content_with_the_file_named(name, content, code):
    error = refusal(name, content)
    assert error.code == code
    assert f"“{name}”" in error.messages[0]


@override_settings(EVIDENCE_MAX_FILE_BYTES=1000)
def test_an_oversize_file_is_refused_before_it_is_read():
    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("the content was read")

    big = Unreadable("big.png", image_bytes("PNG", size=(200, 200), mode="L") + b"\x00" * 2000, "image/png")
    with pytest.raises(ValidationError) as caught:
        evidence_clean(big)
    assert caught.value.code == "too_large" and "“big.png”" in caught.value.messages[0]


def test_a_decompression_bomb_is_refused():
    # 10,000 × 5,000 one-bit pixels: a few kilobytes on disk, 50 megapixels decoded.
    error = refusal("bomb.png", image_bytes("PNG", size=(10_000, 5_000), mode="1"))
    assert error.code == "too_many_pixels"


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\王芳\\聊天截图.png", "聊天截图.png"),
        ("evil\x00name\r\n.png", "evilname.png"),
        ("", "file"),
        ("a" * 300 + ".jpeg", "a" * 95 + ".jpeg"),
    ],
)
def test_the_name_is_only_a_harmless_label(sent, shown):
    assert display_name(sent) == shown
