"""The texts that tell a customer where they may turn once the desk's "no" is final, kept by
the merchant's admins per country and language, and the record of every change of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The entry used for every country that has none of its own.
DEFAULT_COUNTRY = "default"
TEXT_MAX = 2000


class Language(models.TextChoices):
    ZH_HANS = "zh-Hans", _("Chinese (Simplified)")
    EN = "en", _("English")


class RecourseText(models.Model):
    """What a customer of `country` (an ISO 3166 code, or "default") reads in `language`
    after a final "no": who else may hear their complaint. Changed only through
    recourse/editing.py, which records every change."""

    country = models.CharField(_("country"), max_length=7)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    text = models.TextField(_("text"), max_length=TEXT_MAX)
    updated_at = models.DateTimeField(_("changed"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("text after a final decision")
        verbose_name_plural = _("texts after a final decision")
        ordering = ["country", "language"]
        constraints = [
            models.UniqueConstraint(fields=["country", "language"],
                                    name="one_recourse_text_per_country_and_language"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.language}"


class RecourseTextChange(models.Model):
    """One change of a text (written, changed or removed): who, when, before and after.
    Written in the transaction of the change, never edited."""

    at = models.DateTimeField(_("when"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    country = models.CharField(_("country"), max_length=7)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    text_before = models.TextField(_("before"), blank=True)
    text_after = models.TextField(_("after"), blank=True)

    class Meta:
        verbose_name = _("change of a text after a final decision")
        verbose_name_plural = _("changes of the texts after a final decision")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.country} {self.language} {self.at:%Y-%m-%d %H:%M}"
