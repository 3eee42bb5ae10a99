"""Which case has reached a final "no", and which of the merchant's texts tells its customer
where to turn next.

Which country: the billing facts say nothing of where a customer lives (an account has an
e-mail, a name and a phone number, no country), and a currency is shared by many countries
(USD, EUR). The policy a case was assessed with names the country whose rules and business
days the merchant applies to the product (`calendar = "CN"` in every preset), so that
country is the one whose consumer bodies the text names. A policy on the plain Monday-to-
Friday calendar (`"none"`) names no country: the "default" entry applies.

Which entry: the country's in the customer's language, else the "default" entry in that
language, else the country's English one, else the "default" English one, else a sentence
of our own that names no body at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import sla
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.policy.schema import PolicyError
from refunddesk.recourse.models import DEFAULT_COUNTRY, Language, RecourseText

# When the merchant has written nothing at all: true everywhere, and names nobody.
BUILT_IN = _("You may contact the consumer protection authority of your country.")

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class FinalNo:
    """A case whose "no" is final, and where its customer may turn."""

    is_after_appeal: bool  # a second reviewer heard the appeal; else nobody appealed in time
    recourse: str


def is_final_no(case: RefundCase) -> bool:
    """A case closed after a decision: an appeal rejected, or a rejection nobody appealed
    in time. The only other way to "closed" (information not sent by its deadline) comes
    before any decision, and the customer may simply apply again; a withdrawn or refunded
    case is no "no" at all."""
    return case.state == State.CLOSED and case.decided_at is not None


def country_of(case: RefundCase) -> str:
    """The country whose text applies to the case (see the module's note)."""
    try:
        calendar = sla.policy_of(case).calendar
    except PolicyError:
        return DEFAULT_COUNTRY
    return calendar if _COUNTRY_CODE.fullmatch(calendar or "") else DEFAULT_COUNTRY


def text_language(language: str | None) -> str:
    """Django's language code ("zh-hans", "en") → the texts' ("zh-Hans", "en")."""
    return Language.ZH_HANS if (language or "").lower().startswith("zh") else Language.EN


def recourse_text(country: str, language: str) -> str:
    """The merchant's text for `country` in `language` (a Django or a text language code),
    falling back as the module's note says."""
    language = text_language(language)
    wanted = list(dict.fromkeys([(country, language), (DEFAULT_COUNTRY, language),
                                 (country, Language.EN), (DEFAULT_COUNTRY, Language.EN)]))
    kept = {(row.country, row.language): row.text for row in RecourseText.objects.filter(
        country__in={country, DEFAULT_COUNTRY}, language__in={language, Language.EN})}
    for key in wanted:
        if kept.get(key):
            return kept[key]
    with translation.override("zh-hans" if language == Language.ZH_HANS else "en"):
        return str(BUILT_IN)


def final_no(case: RefundCase, language: str | None) -> FinalNo | None:
    """What to tell the customer of a final "no" in `language`; None for any other case."""
    if not is_final_no(case):
        return None
    return FinalNo(is_after_appeal=case.appealed_at is not None,
                   recourse=recourse_text(country_of(case), text_language(language)))
