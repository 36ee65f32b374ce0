"""What consumers tell us beyond their complaint: satisfaction surveys, general
feedback from the public form, and where an alert word was found in a complaint
or a piece of feedback (the words themselves are the ticket domain's,
:class:`tickets.models.AlertKeyword`)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Survey(models.Model):
    """A consumer's rating of one resolution of a ticket (1 to 5 and a comment).

    ``resolution`` is the cycle of the resolution target that was met: a ticket
    reopened and resolved again may be rated again, once per resolution. The
    team, category and agent are those of the ticket when it was rated, so the
    reports group by who actually resolved it."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="surveys", verbose_name=_("ticket")
    )
    resolution = models.PositiveIntegerField(_("resolution"))
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    team = models.ForeignKey("tickets.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("team"))
    category = models.ForeignKey(
        "tickets.Category", on_delete=models.PROTECT, related_name="+", verbose_name=_("category")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    created_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "resolution"], name="one_survey_per_resolution"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="survey_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["created_at"], name="survey_created_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.resolution}: {self.rating}"


class Feedback(models.Model):
    """A suggestion or remark sent through the public feedback form (not a
    complaint: no SLA, no reply owed). Managers read them in the feedback inbox,
    by topic, and mark them handled."""

    class Topic(models.TextChoices):
        SHOPPING = "shopping", _("Shopping and orders")
        MERCHANTS = "merchants", _("Merchants")
        SERVICE = "service", _("Customer service")
        PROMOTIONS = "promotions", _("Promotions")
        SITE = "site", _("Website and app")
        OTHER = "other", _("Other")

    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    body = models.TextField(_("feedback"), max_length=2000)
    contact = models.CharField(
        _("contact (optional)"),
        max_length=100,
        blank=True,
        help_text=_("A phone number or email address, if you would like us to get back to you."),
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    is_flagged = models.BooleanField(_("flagged by a keyword alert"), default=False)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="feedback_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_topic_display()}: {self.body[:40]}"

    def get_topic_display_lazy(self):
        """The topic's label as a lazy string (rendered in each reader's language)."""
        return self.Topic(self.topic).label


class KeywordHit(models.Model):
    """An alert word found in a complaint or in a piece of feedback (the reports'
    feedback inbox lists them). A complaint's hits are written from its
    keyword-alert event, in the transaction that files it
    (``feedback.services.ticket_keyword_hits_write``)."""

    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="keyword_hits",
        verbose_name=_("ticket"),
    )
    feedback = models.ForeignKey(
        Feedback,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="keyword_hits",
        verbose_name=_("feedback"),
    )
    keyword = models.ForeignKey(
        "tickets.AlertKeyword", on_delete=models.CASCADE, related_name="hits", verbose_name=_("alert keyword")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("keyword alert")
        verbose_name_plural = _("keyword alerts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "keyword"], name="one_hit_per_ticket_keyword"),
            models.UniqueConstraint(fields=["feedback", "keyword"], name="one_hit_per_feedback_keyword"),
            models.CheckConstraint(
                condition=Q(ticket__isnull=False, feedback__isnull=True)
                | Q(ticket__isnull=True, feedback__isnull=False),
                name="keyword_hit_on_one_thing",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="keyword_hit_created_idx")]

    def __str__(self) -> str:
        return f"{self.keyword} @ {self.ticket_id or f'feedback {self.feedback_id}'}"
