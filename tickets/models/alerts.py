"""Alert words: a word that, found in a new complaint (or in a piece of public
feedback), flags it for a supervisor. The ticket domain owns them, because
filing a complaint acts on them (:mod:`tickets.keywords` finds them); the
feedback app records where each was found and keeps their admin page.

The model was the feedback app's; it moved here with its table, its rows and
its content type (migration tickets 0013)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AlertKeyword(models.Model):
    """A word that, found in a new complaint, flags it, raises it to urgent and
    tells the team's supervisors (for example 诈骗, 骗子, 盗号, fraud)."""

    word = models.CharField(_("word"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        db_table = "feedback_alertkeyword"  # the table it had in the feedback app, kept with its rows
        verbose_name = _("alert keyword")
        verbose_name_plural = _("alert keywords")
        ordering = ["word"]
        constraints = [models.UniqueConstraint(Lower("word"), name="alert_keyword_unique_ci")]

    def __str__(self) -> str:
        return self.word
