"""Canned replies: texts the admins keep in Chinese and English, with placeholders
(placeholders.py), which agents insert into a message to a customer or a rejection, filled
in for the case (filling.py). Changed only through editing.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TITLE_MAX = 120
TEXT_MAX = 5000  # what a message to the customer may hold (console/case_forms.py)


class CannedReply(models.Model):
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    text_zh = models.TextField(_("text (Chinese)"), max_length=TEXT_MAX)
    text_en = models.TextField(_("text (English)"), max_length=TEXT_MAX)
    # A retired reply is offered no more but kept, so it can be offered again.
    is_active = models.BooleanField(_("offered to agents"), default=True)
    updated_at = models.DateTimeField(_("changed"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def text_for(self, language: str) -> str:
        """The text in the case's language: Chinese for zh-*, else English."""
        return self.text_zh if (language or "").lower().startswith("zh") else self.text_en
