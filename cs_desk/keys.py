"""API keys: random, shown once, stored only as their SHA-256 (a leaked
database leaks no key). Merchant tokens and staff tokens both use these."""

from __future__ import annotations

import hashlib
import secrets


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_new(prefix: str) -> str:
    """A new key: ``prefix`` then 43 URL-safe characters (256 random bits)."""
    return prefix + secrets.token_urlsafe(32)
