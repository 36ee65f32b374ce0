"""Evidence files from the outside: filed with a complaint or a reply, refused
with a clear message when they are not what they claim, kept out of every URL
space, and served only to the tracking token's holder."""

from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from tests.tickets.test_consumer import NEW, valid
from tickets import services
from tickets.models import Attachment, Ticket


def png(name="chat.png", size=(40, 30)) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def jpeg_with_gps(name="photo.jpg") -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 13.0, 50.0), 3: "E", 4: (121.0, 28.0, 20.0)})
    buffer = BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buffer, "JPEG", exif=exif)
    assert b"PhoneMaker" in buffer.getvalue()
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf(name="receipt.pdf") -> SimpleUploadedFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


@pytest.mark.django_db
class TestFilingWithEvidence:
    def test_png_jpeg_and_pdf_are_filed_cleaned_and_stored_under_random_names(self, client, category):
        files = [png(), jpeg_with_gps(), pdf()]
        response = client.post(NEW, valid(category) | {"evidence": files})
        assert response.status_code == 302
        ticket = Ticket.objects.get()
        attachments = list(ticket.attachments.order_by("id"))
        assert [a.original_name for a in attachments] == ["chat.png", "photo.jpg", "receipt.pdf"]
        assert [a.content_type for a in attachments] == ["image/png", "image/jpeg", "application/pdf"]
        root = Path(settings.EVIDENCE_ROOT).resolve()
        for attachment in attachments:
            path = Path(attachment.file.path).resolve()
            assert path.is_relative_to(root) and path.exists()
            assert attachment.original_name not in path.name  # a random name, never the sender's
            assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
        stored_jpeg = Path(attachments[1].file.path).read_bytes()
        assert b"PhoneMaker" not in stored_jpeg and not Image.open(BytesIO(stored_jpeg)).getexif()
        assert attachments[0].message == ticket.messages.get()

    @pytest.mark.parametrize(
        ("upload", "message"),
        [
            (SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\x00" * 200, "image/png"), "“photo.png” is not"),
            (SimpleUploadedFile("x.png", b"<html><script>alert(1)</script></html>", "image/png"), "“x.png” is not"),
        ],
        ids=["exe-renamed-png", "html-labelled-png"],
    )
    def test_disguised_files_are_refused_by_name_and_nothing_is_filed(self, client, category, upload, message):
        client.cookies["django_language"] = "en"
        response = client.post("/en" + NEW, valid(category) | {"evidence": [png(), upload]})
        assert response.status_code == 400
        errors = response.context["form"].errors["evidence"]
        assert any(message in e for e in errors), errors
        assert not Ticket.objects.exists() and not Attachment.objects.exists()
        # The typed text is kept for the next try.
        assert "付款成功但订单列表里没有这个订单" in response.content.decode()

    def test_an_oversize_file_is_refused_with_the_limit(self, client, category):
        client.cookies["django_language"] = "en"
        with override_settings(EVIDENCE_MAX_FILE_BYTES=1024):
            response = client.post("/en" + NEW, valid(category) | {"evidence": [png(size=(400, 400))]})
        assert response.status_code == 400
        assert not Ticket.objects.exists()
        assert "“chat.png”" in " ".join(response.context["form"].errors["evidence"])

    def test_more_than_five_files_are_refused(self, client, category):
        client.cookies["django_language"] = "en"
        response = client.post("/en" + NEW, valid(category) | {"evidence": [png(f"{i}.png") for i in range(6)]})
        assert response.status_code == 400
        assert "at most 5 files" in " ".join(response.context["form"].errors["evidence"])

    def test_a_body_over_the_total_limit_is_refused_before_it_is_read(self, client, category):
        client.cookies["django_language"] = "en"
        # The declared length alone decides: the body the test sends is small.
        response = client.post(
            "/en" + NEW, valid(category), CONTENT_LENGTH=str(settings.EVIDENCE_MAX_REQUEST_BYTES + 1)
        )
        assert response.status_code == 413
        assert "at most 10 MB each" in response.content.decode()
        assert not Ticket.objects.exists()


@pytest.mark.django_db
class TestServingEvidence:
    @pytest.fixture
    def filed(self, client, category):
        client.post(NEW, valid(category) | {"evidence": [png(), pdf()]})
        ticket = Ticket.objects.get()
        return ticket, list(ticket.attachments.order_by("id"))

    def test_image_inline_pdf_as_download_never_sniffed(self, client, filed):
        ticket, (image, document) = filed
        response = client.get(f"/t/{ticket.tracking_token}/files/{image.pk}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("inline")
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        response = client.get(f"/t/{ticket.tracking_token}/files/{document.pk}/")
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_the_tracking_page_shows_thumbnails_through_the_guarded_view(self, client, filed):
        ticket, (image, _document) = filed
        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert f'src="/t/{ticket.tracking_token}/files/{image.pk}/"' in page
        assert "receipt.pdf" in page

    def test_another_tickets_token_or_a_guess_gets_404(self, client, filed, category):
        ticket, (image, _document) = filed
        other = services.ticket_create(
            category=category,
            subject="另一个",
            body="另一个投诉内容",
            requester_name="张伟",
            requester_phone="13900001111",
        )
        assert client.get(f"/t/{other.tracking_token}/files/{image.pk}/").status_code == 404
        assert client.get(f"/t/{ticket.reference}/files/{image.pk}/").status_code == 404
        assert client.get(f"/t/{ticket.tracking_token}/files/{image.pk + 1000}/").status_code == 404
        # Nothing under the static or media URL space serves it.
        assert client.get(f"/static/{image.file.name}").status_code == 404
        assert client.get(f"/media/{image.file.name}").status_code == 404

    def test_a_reply_carries_more_evidence(self, client, filed):
        ticket, _files = filed
        response = client.post(f"/t/{ticket.tracking_token}/", {"body": "补充一张截图", "evidence": [png("more.png")]})
        assert response.status_code == 302
        message = ticket.messages.order_by("-id").first()
        assert [a.original_name for a in message.attachments.all()] == ["more.png"]
