"""The penalty ladder, and the merchant's standing that follows from it.

Each step of ``settings.MERCHANT_PENALTY_LADDER`` (warning → point deduction →
search-ranking demotion → exclusion from promotions → removal) is imposed when
the merchant's strikes in the rolling window reach its threshold, and lifted
when they fall below it again. Removal is only proposed; it takes effect when
an administrator confirms it, and only an administrator ends it.

An administrator may revoke any step with a reason (the merchant's appeal);
the ladder then does not impose that step again on the same strikes, only
once a new strike arrives. The ladder lifts only the steps it imposed; a step
an administrator imposed by hand stays until an administrator revokes it.
Every step is a ``MerchantPenalty`` naming its reason, the tickets behind it
and who decided it, and the merchant is told of each. Changes to one
merchant are made under a lock on its row; a partial unique constraint keeps
one step of each kind in force, whatever runs at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.events import PENALIZED, MerchantEvent, merchant_events_written
from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError, InvalidTransition
from merchants.models import MerchantAppeal, MerchantPenalty, MerchantStrike
from merchants.scoring import merchant_scores_compute, window_start
from tickets.notifications import notifications_for, notifications_insert
from tickets.recipients import merchant_addresses
from tickets.reply_address import PENALTY, reply_address

Kind = MerchantPenalty.Kind
PStatus = MerchantPenalty.Status
LADDER_JOB = "penalty ladder"


@dataclass(frozen=True)
class Rung:
    kind: str
    strikes: int
    points: Decimal = Decimal(0)


def ladder() -> list[Rung]:
    """The configured steps, lowest threshold first."""
    rungs = [
        Rung(kind=step["kind"], strikes=int(step["strikes"]), points=Decimal(str(step.get("points", 0))))
        for step in settings.MERCHANT_PENALTY_LADDER
    ]
    return sorted(rungs, key=lambda r: r.strikes)


def _notify(merchant: Merchant, kind: str, penalty: MerchantPenalty, now: datetime, **extra) -> None:
    context = {
        "merchant": merchant.name,
        "penalty": Kind(penalty.kind).label,
        "reason": penalty.reason_text,
        "points": penalty.points,
        **extra,
    }
    # A reply by mail to a penalty's notice is an appeal of it (mail.inbound), through its signed address.
    reply_to = reply_address(PENALTY, penalty.pk)
    outgoing = notifications_for(kind, context, addresses=merchant_addresses(merchant), reply_to=reply_to)
    notifications_insert(outgoing, at=now)


def _penalized(merchant: Merchant, penalty: MerchantPenalty, now: datetime) -> None:
    """Tell the merchant's users, and whoever listens for penalties (the
    webhooks subscribed to merchant.penalized, in this transaction)."""
    _notify(merchant, "merchant_penalized", penalty, now)
    data = {
        "merchant": {"id": merchant.pk, "shop_id": merchant.shop_id, "name": merchant.name},
        "penalty": {
            "id": penalty.pk,
            "kind": penalty.kind,
            "status": penalty.status,
            "points": penalty.points,
            "reason": str(penalty.reason_text),
            "strike_count": penalty.strike_count,
            "tickets": sorted(penalty.tickets.values_list("reference", flat=True)),
        },
    }
    merchant_events_written([MerchantEvent(PENALIZED, data, now)])


def merchant_state_refresh(merchant: Merchant) -> None:
    """Status and flags from the steps in force (and the administrator's suspension)."""
    in_force = dict(merchant.penalties.filter(status__in=MerchantPenalty.IN_FORCE).values_list("kind", "status"))
    active = {kind for kind, status in in_force.items() if status == PStatus.ACTIVE}
    if Kind.REMOVAL in active:
        status = Merchant.Status.REMOVED
    elif merchant.suspended:
        status = Merchant.Status.SUSPENDED
    elif active & {Kind.SEARCH_DEMOTION, Kind.PROMOTION_EXCLUSION}:
        status = Merchant.Status.RESTRICTED
    elif in_force:
        status = Merchant.Status.WARNED
    else:
        status = Merchant.Status.ACTIVE
    merchant.status = status
    merchant.search_demoted = Kind.SEARCH_DEMOTION in active
    merchant.promotions_excluded = Kind.PROMOTION_EXCLUSION in active
    merchant.save(update_fields=["status", "search_demoted", "promotions_excluded"])


def _locked(merchant: Merchant) -> Merchant:
    return Merchant.objects.select_for_update().get(pk=merchant.pk)


def merchant_ladder_evaluate(
    *, merchant: Merchant, now: datetime | None = None, rescore: bool = True
) -> dict[str, list[str]]:
    """Climb or descend the ladder to where the merchant's strikes put it, and
    re-score the merchant if a step changed (unless the caller scores it next:
    ``rescore=False``). Returns the kinds imposed and lifted. Safe to run again
    at any time."""
    now = now or timezone.now()
    imposed: list[str] = []
    lifted: list[str] = []
    with transaction.atomic():
        m = _locked(merchant)
        strikes = list(
            MerchantStrike.objects.filter(merchant=m, created_at__gt=window_start(now), created_at__lte=now).order_by(
                "created_at", "pk"
            )
        )
        count = len(strikes)
        newest = strikes[-1].created_at if strikes else None
        in_force = {p.kind: p for p in m.penalties.filter(status__in=MerchantPenalty.IN_FORCE)}
        revoked = dict(
            m.penalties.filter(status=PStatus.REVOKED)
            .values("kind")
            .annotate(at=Max("ended_at"))
            .values_list("kind", "at")
        )
        liftable = {kind for kind, p in in_force.items() if _liftable(p.decided_by_job, p.kind, p.status)}
        to_impose, to_lift = ladder_moves(
            count=count, newest=newest, in_force=set(in_force), liftable=liftable, revoked=revoked
        )
        for rung in to_impose:
            penalty = MerchantPenalty.objects.create(
                merchant=m,
                kind=rung.kind,
                status=PStatus.PROPOSED if rung.kind == Kind.REMOVAL else PStatus.ACTIVE,
                points=rung.points,
                strike_count=count,
                threshold=rung.strikes,
                decided_by_job=LADDER_JOB,
                created_at=now,
            )
            penalty.tickets.set({s.ticket_id for s in strikes})
            _penalized(m, penalty, now)
            imposed.append(rung.kind)
        for rung in to_lift:
            held = in_force[rung.kind]
            held.status = PStatus.LIFTED
            held.ended_at = now
            held.end_reason = str(
                _("Missed deadlines in the last %(days)d days fell to %(count)d, below %(threshold)d.")
                % {"days": settings.MERCHANT_SCORE_WINDOW_DAYS, "count": count, "threshold": rung.strikes}
            )
            held.save(update_fields=["status", "ended_at", "end_reason"])
            # An appeal still open has nothing left to decide (the lifted notice tells the merchant).
            held.appeals.filter(status=MerchantAppeal.Status.OPEN).update(
                status=MerchantAppeal.Status.MOOT, decided_at=now, decision_note=held.end_reason
            )
            _notify(m, "merchant_penalty_lifted", held, now, why=held.end_reason)
            lifted.append(rung.kind)
        merchant_state_refresh(m)
    if rescore and (imposed or lifted):
        merchant_scores_compute(now=now, merchant_ids=[m.pk])
    return {"imposed": imposed, "lifted": lifted}


def _liftable(decided_by_job: str, kind: str, status: str) -> bool:
    """The ladder lifts only the steps it imposed, never a confirmed removal."""
    return decided_by_job == LADDER_JOB and not (kind == Kind.REMOVAL and status == PStatus.ACTIVE)


def ladder_moves(
    *, count: int, newest: datetime | None, in_force: set[str], liftable: set[str], revoked: dict[str, datetime]
) -> tuple[list[Rung], list[Rung]]:
    """The ladder's rule, pure: the steps to impose and to lift for a merchant
    with ``count`` strikes in the window (the newest at ``newest``), the kinds
    ``in_force`` (those of them the ladder may lift: ``liftable``) and the
    last revocation of each kind (``revoked``). A step revoked on appeal comes
    back only with a strike newer than its revocation."""
    impose: list[Rung] = []
    lift: list[Rung] = []
    for rung in ladder():
        if count >= rung.strikes:
            if rung.kind in in_force:
                continue
            revoked_at = revoked.get(rung.kind)
            if revoked_at is not None and newest <= revoked_at:
                continue  # the appeal was upheld; only a new strike brings the step back
            impose.append(rung)
        elif rung.kind in liftable:
            lift.append(rung)
    return impose, lift


def _ladder_candidates(now: datetime) -> list[int]:
    """The merchants the ladder would move at ``now``: of those with strikes in
    the window or a step in force, the ones ``ladder_moves`` finds a move for,
    from three grouped queries (the daily job then evaluates only them, each
    under its lock)."""
    counted = (
        MerchantStrike.objects.filter(created_at__gt=window_start(now), created_at__lte=now)
        .values("merchant_id")
        .annotate(n=Count("pk"), newest=Max("created_at"))
        .values_list("merchant_id", "n", "newest")
    )
    strikes = {pk: (n, newest) for pk, n, newest in counted}
    in_force: dict[int, set[str]] = {}
    liftable: dict[int, set[str]] = {}
    held = MerchantPenalty.objects.filter(status__in=MerchantPenalty.IN_FORCE).values_list(
        "merchant_id", "kind", "status", "decided_by_job"
    )
    for pk, kind, status, job in held:
        in_force.setdefault(pk, set()).add(kind)
        if _liftable(job, kind, status):
            liftable.setdefault(pk, set()).add(kind)
    revoked: dict[int, dict[str, datetime]] = {}
    rows = (
        MerchantPenalty.objects.filter(status=PStatus.REVOKED, merchant_id__in=list(strikes))
        .values("merchant_id", "kind")
        .annotate(at=Max("ended_at"))
        .values_list("merchant_id", "kind", "at")
    )
    for pk, kind, at in rows:
        revoked.setdefault(pk, {})[kind] = at
    found = []
    for pk in sorted(set(strikes) | set(in_force)):
        count, newest = strikes.get(pk, (0, None))
        impose, lift = ladder_moves(
            count=count,
            newest=newest,
            in_force=in_force.get(pk, set()),
            liftable=liftable.get(pk, set()),
            revoked=revoked.get(pk, {}),
        )
        if impose or lift:
            found.append(pk)
    return found


def merchant_penalty_impose(
    *, merchant: Merchant, kind: str, reason: str, actor, points: Decimal = Decimal(0), tickets=(), now=None
) -> MerchantPenalty:
    """A step decided by a person (an administrator), with their reason."""
    now = now or timezone.now()
    if not reason.strip():
        raise ApplicationError(_("Give the reason for the penalty."), code="required", field="reason")
    with transaction.atomic():
        m = _locked(merchant)
        if m.penalties.filter(kind=kind, status__in=MerchantPenalty.IN_FORCE).exists():
            raise InvalidTransition(_("This merchant already has that penalty in force."), code="already_in_force")
        penalty = MerchantPenalty.objects.create(
            merchant=m,
            kind=kind,
            status=PStatus.ACTIVE,
            points=points if kind == Kind.POINT_DEDUCTION else Decimal(0),
            reason=reason.strip(),
            strike_count=m.strikes.filter(created_at__gt=window_start(now), created_at__lte=now).count(),
            decided_by=actor,
            created_at=now,
            confirmed_by=actor if kind == Kind.REMOVAL else None,
            confirmed_at=now if kind == Kind.REMOVAL else None,
        )
        penalty.tickets.set(tickets)
        _penalized(m, penalty, now)
        merchant_state_refresh(m)
    merchant_scores_compute(now=now, merchant_ids=[m.pk])
    return penalty


def merchant_penalty_revoke(*, penalty: MerchantPenalty, actor, reason: str, now=None) -> MerchantPenalty:
    """End a step on appeal: its effects (status, flags, points) are undone."""
    now = now or timezone.now()
    if not reason.strip():
        raise ApplicationError(_("Give the reason for revoking the penalty."), code="required", field="reason")
    with transaction.atomic():
        m = _locked(penalty.merchant)
        penalty = MerchantPenalty.objects.select_for_update().get(pk=penalty.pk)
        if not penalty.in_force:
            raise InvalidTransition(_("This penalty is no longer in force."), code="not_in_force")
        penalty.status = PStatus.REVOKED
        penalty.ended_at = now
        penalty.ended_by = actor
        penalty.end_reason = reason.strip()
        penalty.save(update_fields=["status", "ended_at", "ended_by", "end_reason"])
        _notify(m, "merchant_penalty_revoked", penalty, now, why=penalty.end_reason)
        merchant_state_refresh(m)
    merchant_scores_compute(now=now, merchant_ids=[m.pk])
    return penalty


def merchant_removal_confirm(*, penalty: MerchantPenalty, actor, now=None) -> MerchantPenalty:
    """An administrator confirms a proposed removal: the merchant is removed."""
    now = now or timezone.now()
    with transaction.atomic():
        m = _locked(penalty.merchant)
        penalty = MerchantPenalty.objects.select_for_update().get(pk=penalty.pk)
        if penalty.kind != Kind.REMOVAL or penalty.status != PStatus.PROPOSED:
            raise InvalidTransition(_("Only a proposed removal can be confirmed."), code="not_proposed")
        penalty.status = PStatus.ACTIVE
        penalty.confirmed_by = actor
        penalty.confirmed_at = now
        penalty.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        _notify(m, "merchant_removed", penalty, now)
        merchant_state_refresh(m)
    return penalty


def merchant_suspend(*, merchant: Merchant, suspended: bool) -> Merchant:
    """An administrator suspends a merchant, or lifts the suspension."""
    with transaction.atomic():
        m = _locked(merchant)
        m.suspended = suspended
        m.save(update_fields=["suspended"])
        merchant_state_refresh(m)
    return m


def merchants_rescore(*, now: datetime | None = None, merchant_ids=None) -> dict[str, int]:
    """Scoring now: the ladder for the merchants it may concern (those in
    ``merchant_ids``, or, for all merchants, those it would move: see
    ``_ladder_candidates``), then the score of each merchant asked for. The
    daily job, the task after a merchant's reply or miss, the admin action and
    the managers' "recompute" button."""
    now = now or timezone.now()
    candidates = _ladder_candidates(now) if merchant_ids is None else sorted(set(merchant_ids))
    imposed = lifted = 0
    for merchant in Merchant.objects.filter(pk__in=candidates).order_by("pk"):
        result = merchant_ladder_evaluate(merchant=merchant, now=now, rescore=False)
        imposed += len(result["imposed"])
        lifted += len(result["lifted"])
    scored = merchant_scores_compute(now=now, merchant_ids=merchant_ids)
    return {"evaluated": len(candidates), "imposed": imposed, "lifted": lifted, "scored": scored}


def merchants_daily(*, now: datetime | None = None) -> dict[str, int]:
    """The daily job: every merchant."""
    return merchants_rescore(now=now)
