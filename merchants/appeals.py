"""A merchant's appeal of a penalty, end to end.

A merchant appeals a penalty in force (proposed or active) from the portal (the
penalty's page) or by replying to the penalty's email (the mail channel calls
``penalty_appeal_file`` with the merchant's user, when the sender is one, and
the address it came from). One appeal is open per penalty: what the merchant
writes while it is open is added to it, after a line with the time. The
merchant is told the appeal was received, and those who decide are told there
is one to decide.

Those who may change merchant penalties (``DECIDE_PERMISSION``; administrators
hold every permission) decide an appeal once, in the admin: the penalty upheld,
or revoked through ``merchant_penalty_revoke`` with the decision's note as the
reason (its effects undone, the score recomputed). Either way the merchant is
told: "merchant_appeal_upheld", or the revocation's own notice.

Locks are taken in the order the penalty ladder takes them (the merchant, the
penalty, then the appeal); a partial unique constraint keeps one appeal open
per penalty, whatever runs at once.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError, InvalidTransition
from merchants.access import merchant_of
from merchants.models import MerchantAppeal, MerchantPenalty
from merchants.penalties import merchant_penalty_revoke
from tickets.notifications import notifications_for, notifications_insert
from tickets.recipients import merchant_addresses, user_language
from tickets.reply_address import PENALTY, reply_address
from tickets.rules import email_clean, message_clean

Source = MerchantAppeal.Source
Status = MerchantAppeal.Status
DECISIONS = (Status.UPHELD, Status.REVOKED)
DECIDE_PERMISSION = "merchants.change_merchantpenalty"


# --- Reads ------------------------------------------------------------------------


def penalty_for_merchant(merchant: Merchant, pk) -> MerchantPenalty | None:
    """The penalty ``pk`` if it is this merchant's, else None (another shop's
    penalty answers like one that does not exist)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return merchant.penalties.prefetch_related("tickets").filter(pk=pk).first()


def penalty_appeals(penalty: MerchantPenalty) -> QuerySet[MerchantAppeal]:
    """A penalty's appeals, newest first."""
    return penalty.appeals.order_by("-created_at", "-id")


def appeal_may_decide(user) -> bool:
    """Whether ``user`` decides appeals: whoever may change merchant penalties."""
    return bool(user is not None and user.is_active and user.has_perm(DECIDE_PERMISSION))


def appeal_deciders() -> list:
    """The active users who decide appeals and have an email address."""
    users = get_user_model().objects.with_perm(
        DECIDE_PERMISSION, is_active=True, include_superusers=True, backend="django.contrib.auth.backends.ModelBackend"
    )
    return list(users.exclude(email="").select_related("staff_profile").order_by("pk"))


# --- Filing -----------------------------------------------------------------------


def penalty_appeal_file(
    *,
    penalty: MerchantPenalty,
    body: str,
    source: str,
    filed_by=None,
    from_address: str = "",
    now: datetime | None = None,
) -> MerchantAppeal:
    """File the merchant's appeal of ``penalty``, or add ``body`` to the one
    open. ``filed_by`` is the merchant's user who wrote it (None for mail from
    an address that is no user's); ``from_address`` the address it came from."""
    now = now or timezone.now()
    body = message_clean(body, field="body")
    from_address = email_clean(from_address, field="from_address")
    if source not in Source.values:
        raise ApplicationError(_("Unknown source of an appeal."), code="invalid_choice", field="source")
    if filed_by is not None and getattr(merchant_of(filed_by), "pk", None) != penalty.merchant_id:
        raise ApplicationError(_("Penalty not found."), code="not_found")
    with transaction.atomic():
        penalty = MerchantPenalty.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=penalty.pk)
        if not penalty.in_force:
            raise InvalidTransition(
                _("Only a penalty in force can be appealed; this one is %(status)s.")
                % {"status": penalty.get_status_display()},
                code="not_in_force",
            )
        appeal = penalty.appeals.select_for_update().filter(status=Status.OPEN).first()
        if appeal is None:
            appeal = MerchantAppeal.objects.create(
                penalty=penalty,
                merchant=penalty.merchant,
                body=body,
                source=source,
                filed_by=filed_by,
                from_address=from_address,
                created_at=now,
            )
        else:
            appeal.body = f"{appeal.body}\n\n——— {_stamp(now)} ———\n{body}"
            appeal.save(update_fields=["body"])
        _filed_notify(appeal, penalty, body, now)
    return appeal


def _stamp(now: datetime) -> str:
    """The time an addition was made, as the site reads it, e.g. ``2026-11-23 10:00 (UTC+08:00)``."""
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _to_merchant(kind: str, context: dict, appeal: MerchantAppeal) -> list:
    """A notice to the merchant's contact address and users, and the address the
    appeal came from; a reply to it by mail is added to the appeal (as a reply to
    the penalty's notice is, ``mail.inbound``)."""
    readers = [*merchant_addresses(appeal.merchant), (appeal.from_address, None)]
    return notifications_for(kind, context, addresses=readers, reply_to=reply_address(PENALTY, appeal.penalty_id))


def _penalty_context(appeal: MerchantAppeal, penalty: MerchantPenalty) -> dict:
    with translation.override(settings.LANGUAGE_CODE):  # merchants read the site's language
        portal_url = settings.SITE_URL.rstrip("/") + reverse("merchant:penalty", args=[penalty.pk])
    return {
        "merchant": appeal.merchant.name,
        "penalty": MerchantPenalty.Kind(penalty.kind).label,
        "imposed": penalty.created_at,
        "portal_url": portal_url,
    }


def _filed_notify(appeal: MerchantAppeal, penalty: MerchantPenalty, body: str, now: datetime) -> None:
    """The merchant hears that the appeal arrived; those who decide, that there is one to decide."""
    context = _penalty_context(appeal, penalty) | {"body": body}
    outgoing = _to_merchant("merchant_appeal_received", context, appeal)
    by_language: dict[str, list] = {}
    for user in appeal_deciders():
        by_language.setdefault(user_language(user), []).append(user)
    reason = lazy(lambda: penalty.reason_text, str)()  # in each reader's language
    staff = context | {"reason": reason, "source": Source(appeal.source).label}
    for language, users in by_language.items():
        with translation.override(language):
            admin_url = reverse("admin:merchants_merchantappeal_change", args=[appeal.pk])
        notice = staff | {"admin_url": settings.SITE_URL.rstrip("/") + admin_url}
        outgoing += notifications_for("merchant_appeal_filed", notice, users=users)
    notifications_insert(outgoing, at=now)


# --- Deciding ---------------------------------------------------------------------


def penalty_appeal_decision_check(*, decision: str, note: str) -> str:
    """A decision an administrator may take, and its note (trimmed): required
    to revoke the penalty, as its reason. Forms call it to show the error early."""
    if decision not in DECISIONS:
        raise ApplicationError(_("Uphold the penalty or revoke it."), code="invalid_choice", field="decision")
    note = (note or "").strip()
    if decision == Status.REVOKED and not note:
        raise ApplicationError(_("Give the reason for revoking the penalty."), code="required", field="note")
    return note


def penalty_appeal_decide(
    *, appeal: MerchantAppeal, decision: str, note: str, actor, now: datetime | None = None
) -> MerchantAppeal:
    """Decide an open appeal, once: ``upheld`` (the penalty stays) or
    ``revoked`` (the penalty is revoked with ``note`` as the reason). The
    merchant is told either way."""
    now = now or timezone.now()
    note = penalty_appeal_decision_check(decision=decision, note=note)
    if not appeal_may_decide(actor):
        raise ApplicationError(_("Only those who may change merchant penalties decide appeals."), code="forbidden")
    with transaction.atomic():
        Merchant.objects.select_for_update().get(pk=appeal.merchant_id)
        penalty = MerchantPenalty.objects.select_for_update().get(pk=appeal.penalty_id)
        appeal = MerchantAppeal.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=appeal.pk)
        if not appeal.is_open:
            raise InvalidTransition(_("This appeal has already been decided."), code="already_decided")
        if not penalty.in_force:
            raise InvalidTransition(_("This penalty is no longer in force."), code="not_in_force")
        appeal.status = decision
        appeal.decided_by = actor
        appeal.decided_at = now
        appeal.decision_note = note
        appeal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if decision == Status.REVOKED:
            merchant_penalty_revoke(penalty=penalty, actor=actor, reason=note, now=now)  # tells the merchant
        else:
            context = _penalty_context(appeal, penalty) | {"note": note or "—"}
            notifications_insert(_to_merchant("merchant_appeal_upheld", context, appeal), at=now)
    return appeal
