"""Changing the texts shown after a final decision: the one way it is done. Only an admin
(permissions.py); each change and its record (who, when, before, after) are written in one
transaction; bad input is refused with a RecourseError saying what to change, and changes
nothing."""

from __future__ import annotations

import re
from datetime import datetime

from babel import Locale
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from refunddesk.recourse.models import (
    DEFAULT_COUNTRY,
    TEXT_MAX,
    Language,
    RecourseText,
    RecourseTextChange,
)
from refunddesk.recourse.permissions import require_edit

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


class RecourseError(ValueError):
    def __init__(self, message: StrOrPromise, field: str = ""):
        super().__init__(str(message))
        self.message, self.field = message, field


def country_name(code: str, language: str) -> str:
    """A country code as people read it ("CN" → "China" / "中国"); "default" as words."""
    if code == DEFAULT_COUNTRY:
        return str(_("Every other country (default)"))
    locale = Locale.parse("zh_Hans" if language.lower().startswith("zh") else "en")
    name: str = locale.territories.get(code, code)  # Babel's locale data is untyped
    return name


def normalise_country(raw: str) -> str:
    code = (raw or "").strip()
    if code.lower() == DEFAULT_COUNTRY:
        return DEFAULT_COUNTRY
    code = code.upper()
    if not _COUNTRY_CODE.fullmatch(code) or code not in Locale("en").territories:
        raise RecourseError(_("Enter a country as its two-letter code (ISO 3166), such as "
                              "CN, or “default” for every other country."), "country")
    return code


def save_text(*, country: str, language: str, text: str, actor: object,
              now: datetime | None = None) -> RecourseTextChange | None:
    """Write the text for `country` in `language`; an empty text removes the entry (the
    fallbacks of texts.py apply again). Returns the record of the change, or None when the
    text is already this."""
    person = require_edit(actor)
    country = normalise_country(country)
    if language not in Language.values:
        raise RecourseError(_("Choose the language of the text."), "language")
    text = "\n".join(line.rstrip() for line in (text or "").strip().splitlines())
    if len(text) > TEXT_MAX:
        raise RecourseError(_("The text can have at most %(limit)d characters; it has "
                              "%(count)d.") % {"limit": TEXT_MAX, "count": len(text)}, "text")
    now = now or timezone.now()
    with transaction.atomic():
        current = (RecourseText.objects.select_for_update()
                   .filter(country=country, language=language).first())
        before = current.text if current is not None else ""
        if before == text:
            return None
        if current is None:  # a new entry (an empty text for none was returned above)
            try:
                with transaction.atomic():
                    RecourseText.objects.create(country=country, language=language, text=text,
                                                updated_at=now, updated_by=person)
            except IntegrityError:
                # Another admin wrote the same entry a moment ago (nothing to lock before).
                raise RecourseError(_("Someone else has just written this text. Reload the "
                                      "page, read theirs, and change it if you still need "
                                      "to.")) from None
        elif not text:
            current.delete()
        else:
            current.text, current.updated_at, current.updated_by = text, now, person
            current.save(update_fields=["text", "updated_at", "updated_by"])
        return RecourseTextChange.objects.create(
            at=now, changed_by=person, country=country, language=language,
            text_before=before, text_after=text)


# -- demo ---------------------------------------------------------------------------------

DEMO_TEXTS = (
    ("CN", Language.ZH_HANS,
     "您可以拨打全国消费者投诉举报电话 12315，或登录全国12315平台 https://www.12315.cn/ "
     "提交投诉。"),
    ("CN", Language.EN,
     "You may call China's consumer complaint hotline 12315, or file a complaint on the "
     "national 12315 platform (https://www.12315.cn/)."),
    (DEFAULT_COUNTRY, Language.ZH_HANS, "您可以联系您所在国家或地区的消费者保护机构。"),
    (DEFAULT_COUNTRY, Language.EN,
     "You may contact the consumer protection authority of your country."),
)


def ensure_demo_texts() -> None:
    """The demo's texts, where the merchant has not written that entry (an edited text
    stays as edited). Written directly: the demo is set up by nobody in particular, and its
    texts have no history to record."""
    now = timezone.now()
    for country, language, text in DEMO_TEXTS:
        RecourseText.objects.get_or_create(country=country, language=language,
                                           defaults={"text": text, "updated_at": now})
