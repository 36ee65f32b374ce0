"""Evidence uploads: hostile until proven otherwise.

An anonymous consumer's file is accepted only when its *content* proves it is a
picture (PNG, JPEG, GIF, WebP) or a PDF; the name and the Content-Type header
the browser sent are ignored. What is kept:

* an image is decoded and re-encoded from its pixels, after turning it upright
  by its EXIF orientation, so no metadata survives (EXIF with the GPS location,
  XMP, comments, PNG text chunks); images over ``MAX_PIXELS`` are refused
  before they are decoded (decompression bombs);
* a PDF is kept as sent, but only if it parses, is not encrypted, and carries
  no active content (JavaScript, launch actions, automatic actions other than
  moving inside the document) and no embedded files, checked through every
  object it defines (``tickets.pdf_safety``); it is only ever served as a
  download (``tickets.evidence.evidence_response``).

Each file's size is checked from the upload's metadata before it is read. The
sender's file name is kept for display only, reduced to a harmless base name.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
IMAGE_TYPES = {
    # Pillow format: (content type, extension, save options). PNG at zlib's fastest
    # level: 1080×1920 screenshot 32 ms instead of 94 ms with optimize (and 35 KB
    # instead of 9 KB), a 1080×1440 photo 0.24 s instead of 0.92 s (a smaller file).
    "PNG": ("image/png", ".png", {"compress_level": 1}),
    "JPEG": ("image/jpeg", ".jpg", {"quality": 90}),
    "GIF": ("image/gif", ".gif", {}),
    "WEBP": ("image/webp", ".webp", {"quality": 90}),
}
ACCEPTED = _("Send a photo or screenshot (PNG, JPEG, GIF, WebP) or a PDF.")


@dataclass(frozen=True)
class CleanFile:
    content: bytes  # what is stored: the re-encoded image, or the PDF as sent
    content_type: str
    extension: str
    original_name: str  # for display only
    width: int | None
    height: int | None
    sha256: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def display_name(name: str) -> str:
    """The sender's file name, safe to show: the base name only, without control
    or separator characters, at most 100 characters keeping the extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not base:
        return "file"
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 10 else ""
        base = (stem if ext else base)[: 100 - len(ext)] + ext
    return base


def evidence_clean(uploaded) -> CleanFile:
    """Check and clean one uploaded file (a Django ``UploadedFile``); raise a
    ``ValidationError`` naming the file when it is refused."""
    name = display_name(getattr(uploaded, "name", "") or "")
    limit = settings.EVIDENCE_MAX_FILE_BYTES
    if uploaded.size is not None and uploaded.size > limit:
        raise _too_large(name, limit)
    uploaded.seek(0)
    data = uploaded.read(limit + 1)
    if not data:
        raise ValidationError(_("“%(name)s” is empty."), code="empty", params={"name": name})
    if len(data) > limit:  # a size the upload misreported
        raise _too_large(name, limit)
    if data.startswith(b"%PDF-"):
        return _clean_pdf(data, name)
    return _clean_image(data, name)


def _too_large(name: str, limit: int) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is larger than %(mb)d MB. Send a smaller file, for example a screenshot."),
        code="too_large",
        params={"name": name, "mb": limit // (1024 * 1024)},
    )


def _unreadable_pdf(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is not a readable PDF. Save or print it as a PDF again, or send a screenshot."),
        code="invalid_pdf",
        params={"name": name},
    )


def _refuse_type(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is not an image or a PDF. %(accepted)s"),
        code="unsupported_type",
        params={"name": name, "accepted": ACCEPTED},
    )


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(BytesIO(data), formats=list(IMAGE_TYPES))


def _clean_image(data: bytes, name: str) -> CleanFile:
    try:
        probe = _open(data)
    except UnidentifiedImageError as exc:
        raise _refuse_type(name) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(name) from exc
    except Exception as exc:
        raise _invalid_image(name) from exc
    if probe.width * probe.height > MAX_PIXELS:
        raise _too_many_pixels(name)
    content_type, extension, options = IMAGE_TYPES[probe.format]
    try:
        probe.verify()  # structure and checksums, without decoding the pixels
        image = _open(data)
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _savable(image, probe.format)
        out = BytesIO()
        # No exif=, icc_profile=, pnginfo= or comment: only the pixels are written.
        image.save(out, probe.format, **options)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(name) from exc
    except Exception as exc:
        raise _invalid_image(name) from exc
    content = out.getvalue()
    return CleanFile(
        content=content,
        content_type=content_type,
        extension=extension,
        original_name=name,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _savable(image: Image.Image, fmt: str) -> Image.Image:
    """A copy of the pixels in a mode ``fmt`` can write, with nothing else attached."""
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif fmt == "PNG" and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA")
    elif fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    clean = image.copy()
    keep = {"transparency"} if "transparency" in image.info else set()
    clean.info = {k: v for k, v in image.info.items() if k in keep}
    return clean


def _invalid_image(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” looks like an image but cannot be read (damaged or incomplete). Try saving it again."),
        code="invalid_image",
        params={"name": name},
    )


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” has too many pixels (at most %(mp)d million). Send a smaller picture or a screenshot."),
        code="too_many_pixels",
        params={"name": name, "mp": MAX_PIXELS // 1_000_000},
    )


def _clean_pdf(data: bytes, name: str) -> CleanFile:
    from tickets import pdf_safety  # pypdf is loaded on the first PDF, not with every process

    try:
        pdf_safety.pdf_check(data=data)
    except pdf_safety.PdfRefused as exc:
        logger.info("Evidence PDF refused (%s): %s", exc.code, exc.reason)
        raise _pdf_refusal(exc.code, name) from exc
    return CleanFile(
        content=data,
        content_type="application/pdf",
        extension=".pdf",
        original_name=name,
        width=None,
        height=None,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _pdf_refusal(code: str, name: str) -> ValidationError:
    """The sender's message for a refusal of ``tickets.pdf_safety`` (whose codes are ours)."""
    if code == "pdf_encrypted":
        return ValidationError(
            _("“%(name)s” is password-protected. Send a PDF without a password, or a screenshot."),
            code="pdf_encrypted",
            params={"name": name},
        )
    if code == "pdf_active_content":
        return ValidationError(
            _(
                "“%(name)s” contains scripts or attached files. Print it to a plain PDF "
                "(“Save as PDF”) or send a screenshot instead."
            ),
            code="pdf_active_content",
            params={"name": name},
        )
    return _unreadable_pdf(name)
