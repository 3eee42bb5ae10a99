"""One sentence per line, in zh-Hans or English: why the line is compensated and how much,
or why it gets nothing. The dry run shows a sample of them in both languages; the case a
run opens keeps the customer's in its decision note (the e-mail and the portal read it)
and the English ones in its stored assessment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refunddesk.compensation import remedies
from refunddesk.compensation.remedies import Outcome, Remedy
from refunddesk.core.money import format_money

LANGUAGES = ("zh-hans", "en")


@dataclass(frozen=True)
class LineFacts:
    """What a sentence names of a line."""

    order: str
    line: str
    sku: str
    product_zh: str
    product_en: str
    currency: str
    paid: int
    service_start: datetime
    service_end: datetime | None

    def product(self, language: str) -> str:
        return self.product_zh if language.startswith("zh") else self.product_en


def span_text(span: timedelta) -> str:
    """ "3 days", "2 hours 30 minutes", in the active language; under a minute says so."""
    minutes = int(span.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes)
                     % {"count": minutes})
    if not parts:
        return _("less than a minute")
    return " ".join(parts)


def moment(at: datetime) -> str:
    """A time as the desk's time zone has it, with its offset: the reader's zone is not
    known."""
    local = timezone.localtime(at, timezone.get_default_timezone())
    return local.strftime("%Y-%m-%d %H:%M %z")


def _where(remedy: Remedy) -> str:
    if remedy.credit_to == "gift":
        return _("credited to the account as gift credit")
    return _("credited to the account balance")


def _reason(outcome: Outcome, reason_ref: str) -> str:
    code = outcome.excluded
    reasons = {
        remedies.PAY_AS_YOU_GO: _("pay-as-you-go is billed for what is used, so it has no "
                                  "paid period, price share or end to compensate (only a "
                                  "fixed credit applies to it)"),
        remedies.NO_SERVICE_END: _("its service has no end, so the outage's share of it "
                                   "cannot be worked out"),
        remedies.ENDED_BEFORE: _("a refund ended its service before the outage began"),
        remedies.NOT_ACTIVE: _("its service was not active during the outage"),
        remedies.NO_AMOUNT_FOR_CURRENCY: _("no fixed amount is set for its currency"),
        remedies.NOTHING_DUE: _("its share rounds to less than the smallest coin"),
        remedies.ALREADY_ENDED: _("its service is over (or a refund ends it), so there is "
                                  "nothing to extend"),
        remedies.ALREADY_COMPENSATED: _("it was already compensated for an overlapping "
                                        "outage by compensation run #%(run)s")
        % {"run": reason_ref},
        remedies.NO_POLICY: _("its product has no refund policy to pay it by"),
        remedies.NOTHING_LEFT: _("the order's payments have nothing left to refund"),
        remedies.NO_PAYMENT: _("the order has no payment to pay it back to"),
        remedies.STORE_PURCHASE: _("it was bought through an app store, which alone refunds "
                                   "its purchases (a credit to the balance reaches it)"),
    }
    if code in reasons:
        return reasons[code]
    # Refused when the run opened its case: the case's own words.
    return reason_ref or code


def sentence(line: LineFacts, outcome: Outcome, remedy: Remedy, *, language: str,
             is_capped: bool = False, reason_ref: str = "") -> str:
    """The line's sentence in `language` (zh-hans or en)."""
    with translation.override(language):
        return _sentence(line, outcome, remedy, language, is_capped, reason_ref)


def _sentence(line: LineFacts, outcome: Outcome, remedy: Remedy, language: str,
              is_capped: bool, reason_ref: str) -> str:
    name = _("%(product)s (%(sku)s), order %(order)s line %(line)s") % {
        "product": line.product(language), "sku": line.sku, "order": line.order,
        "line": line.line}
    if outcome.excluded:
        return _("%(name)s: nothing, because %(reason)s.") % {
            "name": name, "reason": _reason(outcome, reason_ref)}
    values = {"name": name, "affected": span_text(outcome.affected),
              "amount": format_money(outcome.amount, line.currency),
              "paid": format_money(line.paid, line.currency)}
    if remedy.kind == remedies.REFUND_TIME:
        assert line.service_end is not None
        text = _("%(name)s: the outage took %(affected)s of its paid service from "
                 "%(start)s to %(end)s; that share of the %(paid)s it cost, %(amount)s, is "
                 "refunded by the way it was paid.") % {
            **values, "start": moment(line.service_start), "end": moment(line.service_end)}
    elif remedy.kind == remedies.CREDIT_PERCENT:
        text = _("%(name)s: the outage took %(affected)s of its service; %(percent)s%% of "
                 "the %(paid)s it cost, %(amount)s, is %(where)s.") % {
            **values, "percent": percent_text(remedy.percent_hundredths),
            "where": _where(remedy)}
    elif remedy.kind == remedies.CREDIT_FIXED:
        text = _("%(name)s: the outage took %(affected)s of its service; %(amount)s is "
                 "%(where)s.") % {**values, "where": _where(remedy)}
    else:
        assert outcome.extended_to is not None and line.service_end is not None
        return _("%(name)s: the outage took %(affected)s of its service; its service now "
                 "ends %(new_end)s instead of %(old_end)s, at no charge.") % {
            **values, "new_end": moment(outcome.extended_to),
            "old_end": moment(line.service_end)}
    if is_capped:
        text += " " + _("(Cut to what the order's payments have left to refund.)")
    return text


def percent_text(hundredths: int) -> str:
    """1250 → "12.5", 1000 → "10"."""
    whole, fraction = divmod(hundredths, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".") if fraction else str(whole)


def both(line: LineFacts, outcome: Outcome, remedy: Remedy, *, is_capped: bool = False,
         reason_ref: str = "") -> dict[str, str]:
    """The sentence in each language of the desk: {"zh-hans": …, "en": …}."""
    return {language: sentence(line, outcome, remedy, language=language,
                               is_capped=is_capped, reason_ref=reason_ref)
            for language in LANGUAGES}


def customer_language(known: str | None) -> str:
    """The language to tell a customer in: the one of their latest request, else the
    desk's."""
    code = (known or settings.LANGUAGE_CODE).lower()
    return "en" if code.startswith("en") else "zh-hans"
