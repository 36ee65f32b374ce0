"""The qualification review (资质审核): an administrator reads a merchant's
uploaded documents and records a decision — verified or rejected, or back to
pending — with a note the merchant reads, and who decided and when. Recorded
here and nowhere else; the admin's merchant page calls it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError

Verification = Merchant.Verification


def merchant_verification_check(*, decision: str, note: str) -> None:
    """Refuse a decision that cannot be recorded as given (the admin's form asks
    this before anything is saved, so its page can show the error)."""
    if decision not in Verification.values:
        raise ApplicationError(_("Select a valid choice."), code="invalid_choice", field="verification")
    if decision == Verification.REJECTED and not note.strip():
        raise ApplicationError(
            _("Say why the documents were rejected; the merchant reads it."),
            code="required",
            field="verification_note",
        )


def merchant_verify(*, merchant: Merchant, decision: str, note: str, by, now: datetime) -> Merchant:
    """Record the review's decision and note, made by ``by`` at ``now``."""
    merchant_verification_check(decision=decision, note=note)
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        locked.verification = decision
        locked.verification_note = note.strip()
        locked.verified_by = by
        locked.verified_at = now
        locked.save(update_fields=["verification", "verification_note", "verified_by", "verified_at"])
    for field in ("verification", "verification_note", "verified_by", "verified_at"):
        setattr(merchant, field, getattr(locked, field))
    return locked
