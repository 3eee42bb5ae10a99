"""Money shown to people: one function for every page, e-mail, note and message.

`format_money(96000, "CNY")` is "¥960.00" to a reader of Chinese and "CN¥960.00" to a
reader of English: the symbol, the grouping ("1,234,567.89") and the decimal places are
the reader's locale's and the currency's, from Babel (CLDR), so JPY shows no decimals and
KWD three. The `money` template filter (core/templatetags/money.py) is built on it.

Not for machines. What another program reads keeps the order-facts format of
policy/money.py (`format_amount`: "960.00", no symbol, no grouping, a "." whatever the
language): the API's amounts, webhooks, CSV and XLSX cells, form fields a person edits
and sends back, the assessment and the policy engine's figures, and what is stored
(case events, notices, settlement lines) to be shown later in the reader's language.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_currency
from django.conf import settings
from django.utils import translation

from refunddesk.policy.money import minor_digits

# Django's language code → the Babel locale that formats money for its readers. Chinese is
# written for mainland China: "¥" is the yuan there (CN¥ elsewhere), and JPY is "JP¥".
BABEL_LOCALES = {"zh-hans": "zh_Hans_CN", "en": "en"}


@cache
def babel_locale(language: str) -> Locale:
    """The Babel locale for a Django language code ("zh-hans", "en", "zh-Hans", "en-us")."""
    code = language.lower()
    if code in BABEL_LOCALES:
        return Locale.parse(BABEL_LOCALES[code])
    return Locale.parse(BABEL_LOCALES["zh-hans" if code.startswith("zh") else "en"])


def format_money(minor: int, currency: str, *, language: str | None = None) -> str:
    """`minor` units of `currency` as a person reads them in `language` (a Django language
    code; the active language when None): "¥1,234,567.89", "$12.30", "¥1,235" (JPY)."""
    amount = Decimal(minor).scaleb(-minor_digits(currency))
    locale = babel_locale(language or translation.get_language() or settings.LANGUAGE_CODE)
    return format_currency(amount, currency, locale=locale)

