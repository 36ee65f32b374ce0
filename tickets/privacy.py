"""Masking a consumer's contact details wherever they are listed or shown to a
merchant: enough to recognise them, not enough to reach the consumer."""

from __future__ import annotations

from tickets.phones import phone_mask


def mask_phone(phone: str) -> str:
    """``+8613812345678`` → ``138****5678`` (:func:`tickets.phones.phone_mask`)."""
    return phone_mask(phone)


def mask_email(email: str) -> str:
    """``zhang.san@qq.com`` → ``z***@qq.com``."""
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at:
        return mask_phone(email)
    return f"{local[:1]}***@{domain}"


def mask_contact(*, phone: str, email: str) -> str:
    """The consumer's contact as a list shows it: the masked phone, else the masked email."""
    return mask_phone(phone) if phone else mask_email(email)
