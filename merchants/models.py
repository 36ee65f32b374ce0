"""What follows from a merchant's record (the merchant and its users are in
accounts.models): the strikes their missed deadlines cost, their qualification
documents, their score and the penalties it led to, the risk signals raised
about them, and the API tokens their own tools answer complaints with (a
view of accounts.ApiKey)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, ApiKeysOfKind, Merchant
from tickets.storage import EvidenceStorage

HUNDRED = Decimal(100)


class MerchantStrike(models.Model):
    """A missed 24-hour reply deadline. One per missed target, however many
    sweeps notice the miss. Its reason is a code with parameters, told in the
    reader's language (``reason_text``)."""

    class Reason(models.TextChoices):
        MISSED_REPLY = "missed_reply", _("Missed the reply deadline")
        # A reason recorded as a sentence before reasons were codes: its words
        # are kept in params["text"].
        OTHER = "other", _("Other")

    # What each reason says, its params filled in.
    SENTENCES = {
        Reason.MISSED_REPLY: _("No reply to %(reference)s within the deadline"),
    }

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="strikes", verbose_name=_("merchant"))
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="merchant_strikes", verbose_name=_("ticket")
    )
    target = models.OneToOneField(
        "tickets.SLATarget", on_delete=models.CASCADE, related_name="merchant_strike", verbose_name=_("SLA target")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    params = models.JSONField(_("reason details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("merchant strike")
        verbose_name_plural = _("merchant strikes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "created_at"], name="strike_merchant_created_idx")]

    def __str__(self) -> str:
        return f"{self.merchant} {self.created_at:%Y-%m-%d}"

    @property
    def reason_text(self) -> str:
        """The reason in the active language, e.g. "No reply to CS-20261123-000042 within the deadline"."""
        sentence = self.SENTENCES.get(self.reason)
        if sentence is None:
            return self.params.get("text") or self.get_reason_display()
        return str(sentence) % self.params


class MerchantDocument(models.Model):
    """A qualification document (资质) uploaded for review. Stored with the
    evidence files, outside the public URL space; administrators open it
    through the admin."""

    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        PERMIT = "permit", _("Permit")
        OTHER = "other", _("Other document")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="documents", verbose_name=_("merchant")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="merchant-documents/%Y/%m/", storage=EvidenceStorage)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=100, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("qualification document")
        verbose_name_plural = _("qualification documents")
        ordering = ["merchant", "kind", "-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.merchant}"


class MerchantPenalty(models.Model):
    """One step of the penalty ladder imposed on a merchant: why, on which
    tickets, decided by whom (a person or the scoring job). Lifted when the
    strikes behind it age out, revoked by an administrator on appeal."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        POINT_DEDUCTION = "point_deduction", _("Point deduction")
        SEARCH_DEMOTION = "search_demotion", _("Search-ranking demotion")
        PROMOTION_EXCLUSION = "promotion_exclusion", _("Exclusion from promotions")
        REMOVAL = "removal", _("Removal")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed, awaiting an administrator")
        ACTIVE = "active", _("In force")
        LIFTED = "lifted", _("Lifted")
        REVOKED = "revoked", _("Revoked on appeal")

    IN_FORCE = (Status.PROPOSED, Status.ACTIVE)

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="penalties", verbose_name=_("merchant")
    )
    kind = models.CharField(_("penalty"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    points = models.DecimalField(_("points deducted"), max_digits=5, decimal_places=1, default=Decimal("0"))
    # A person's reason; a step the ladder took explains itself from the
    # strike count and threshold (see reason_text), in the reader's language.
    reason = models.TextField(_("reason"), blank=True)
    strike_count = models.PositiveIntegerField(_("strikes counted"), default=0)
    threshold = models.PositiveIntegerField(_("threshold"), null=True, blank=True)
    tickets = models.ManyToManyField("tickets.Ticket", related_name="merchant_penalties", verbose_name=_("tickets"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_by_job = models.CharField(_("decided by job"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("imposed"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    end_reason = models.TextField(_("why it ended"), blank=True)

    class Meta:
        verbose_name = _("merchant penalty")
        verbose_name_plural = _("merchant penalties")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One step of each kind in force per merchant, however many jobs evaluate at once.
            models.UniqueConstraint(
                fields=["merchant", "kind"],
                condition=Q(status__in=["proposed", "active"]),
                name="one_penalty_in_force_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.merchant}"

    @property
    def in_force(self) -> bool:
        return self.status in self.IN_FORCE

    @property
    def reason_text(self) -> str:
        if self.reason:
            return self.reason
        return gettext("%(count)d missed reply deadlines in %(days)d days (this step starts at %(threshold)d).") % {
            "count": self.strike_count,
            "days": settings.MERCHANT_SCORE_WINDOW_DAYS,
            "threshold": self.threshold or 0,
        }

    @property
    def decided_by_label(self) -> str:
        """Who decided: the person, or the penalty ladder (the one job that imposes penalties)."""
        if self.decided_by_id:
            return self.decided_by.get_username()
        return gettext("Automatic (penalty ladder)") if self.decided_by_job else "—"


class MerchantAppeal(models.Model):
    """A merchant's appeal of a penalty in force, filed in the portal or by
    replying to the penalty's email (``merchants.appeals``). One is open per
    penalty at a time: what the merchant writes while it is open is added to it.
    An administrator decides it once: the penalty upheld, or revoked."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Merchant portal")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        OPEN = "open", _("Open, awaiting a decision")
        UPHELD = "upheld", _("Penalty upheld")
        REVOKED = "revoked", _("Penalty revoked")
        # The ladder lifted the penalty while the appeal was open: nothing left to decide.
        MOOT = "moot", _("Closed: the penalty was lifted")

    penalty = models.ForeignKey(
        MerchantPenalty, on_delete=models.CASCADE, related_name="appeals", verbose_name=_("penalty")
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="appeals", verbose_name=_("merchant"))
    body = models.TextField(_("the merchant's case"))
    source = models.CharField(_("filed through"), max_length=10, choices=Source.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed by"),
    )
    from_address = models.EmailField(_("from address"), max_length=254, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("filed"), default=timezone.now)

    class Meta:
        verbose_name = _("penalty appeal")
        verbose_name_plural = _("penalty appeals")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A second filing while one is open is added to it (merchants.appeals), whatever runs at once.
            models.UniqueConstraint(fields=["penalty"], condition=Q(status="open"), name="one_open_appeal_per_penalty")
        ]

    def __str__(self) -> str:
        return f"{self.penalty} · {self.created_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class MerchantScorecard(models.Model):
    """A merchant's score and the figures behind it, as last computed
    (``merchants.scoring``): the one score every door shows (the portal, the
    staff's scorecards and reports, the admin, both APIs). One row per
    merchant; rewritten only when a computation finds different figures, and
    then with that day's ``MerchantScore`` snapshot in the same transaction."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, primary_key=True, related_name="scorecard", verbose_name=_("merchant")
    )
    # The computation that produced these figures (NULL: never computed yet).
    computed_at = models.DateTimeField(_("last changed"), null=True, blank=True)
    forwarded = models.PositiveIntegerField(_("complaints forwarded"), default=0)
    answered = models.PositiveIntegerField(_("answered in time"), default=0)
    unanswered = models.PositiveIntegerField(_("left unanswered"), default=0)
    reply_rate = models.DecimalField(_("reply rate %"), max_digits=5, decimal_places=1, null=True, blank=True)
    median_reply_seconds = models.PositiveIntegerField(_("median reply time (s)"), null=True, blank=True)
    strikes = models.PositiveIntegerField(_("strikes"), default=0)
    penalty_points = models.DecimalField(_("penalty points"), max_digits=5, decimal_places=1, default=Decimal("0"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, default=Decimal("100.0"))

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        # The managers' scorecard list (merchants.selectors.scorecard_rows): one
        # index per order it offers, the merchant's id breaking ties, so that a
        # page is the first rows of an index that pass the filters.
        indexes = [
            models.Index(fields=["score", "merchant"], name="scorecard_score_idx"),
            models.Index(fields=["reply_rate", "merchant"], name="scorecard_reply_rate_idx"),
            models.Index(
                F("median_reply_seconds").desc(nulls_last=True), F("merchant").desc(), name="scorecard_median_idx"
            ),
            models.Index(fields=["strikes", "merchant"], name="scorecard_strikes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.score}"

    @property
    def unanswered_percent(self) -> Decimal | None:
        """Percentage left unanswered, one decimal (100 − the reply rate)."""
        return None if self.reply_rate is None else HUNDRED - self.reply_rate


class MerchantScore(models.Model):
    """A merchant's figures as computed on one day (the trend), over the rolling
    window ending then. Written only on a day the figures changed: a day
    without a row kept the previous row's figures (``merchants.selectors.score_trend``)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="scores", verbose_name=_("merchant"))
    day = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed"))
    forwarded = models.PositiveIntegerField(_("complaints forwarded"), default=0)
    answered = models.PositiveIntegerField(_("answered in time"), default=0)
    unanswered = models.PositiveIntegerField(_("left unanswered"), default=0)
    reply_rate = models.DecimalField(_("reply rate %"), max_digits=5, decimal_places=1, null=True, blank=True)
    median_reply_seconds = models.PositiveIntegerField(_("median reply time (s)"), null=True, blank=True)
    strikes = models.PositiveIntegerField(_("strikes"), default=0)
    penalty_points = models.DecimalField(_("penalty points"), max_digits=5, decimal_places=1, default=Decimal("0"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)

    class Meta:
        verbose_name = _("daily score")
        verbose_name_plural = _("daily scores")
        ordering = ["merchant", "-day"]
        constraints = [models.UniqueConstraint(fields=["merchant", "day"], name="one_score_per_merchant_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day} {self.score}"


class MerchantRiskSignal(models.Model):
    """A pattern that may mean bought or shared accounts, for a manager to
    review. Found again by the daily job, it is updated, not duplicated."""

    class Kind(models.TextChoices):
        SHARED_CONTACT = "shared_contact", _("Merchants sharing a phone or email")
        NEW_HIGH_VOLUME = "new_high_volume", _("New merchant among the top 5 percent by complaints")
        ODD_HOURS = "odd_hours", _("Replies clustered at odd hours")
        REPLY_BURST = "reply_burst", _("Replies in a burst")

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    kind = models.CharField(_("signal"), max_length=20, choices=Kind.choices)
    # What makes it the same signal when found again: the shared phone or email,
    # or the merchant's id.
    key = models.CharField(_("key"), max_length=255)
    merchants = models.ManyToManyField(Merchant, related_name="risk_signals", verbose_name=_("merchants"))
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    detected_at = models.DateTimeField(_("first detected"))
    last_seen_at = models.DateTimeField(_("last detected"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        verbose_name = _("risk signal")
        verbose_name_plural = _("risk signals")
        ordering = ["-last_seen_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="one_risk_signal_per_key")]

    def __str__(self) -> str:
        # Its key (phone:…, merchant:…) is an identifier, not words: shown on its page.
        return f"{self.get_kind_display()} #{self.pk}"


class MerchantApiToken(ApiKey):
    """A shop's keys (``csm_…``), as the admin lists them here: a view of
    accounts.ApiKey, which holds every API key. Merchant users make them in
    the portal (the key is shown once, there); an administrator can see and
    revoke them."""

    objects = ApiKeysOfKind(ApiKey.Kind.MERCHANT)

    class Meta:
        proxy = True
        verbose_name = _("merchant API token")
        verbose_name_plural = _("merchant API tokens")
