"""What a request by e-mail is about: the sender's account, the orders it names, the case a
reply answers, and the fields of the documented format (docs/email.md), read exactly; free
text is searched for the account's own order ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from refunddesk.billing.models import Account, Order
from refunddesk.cases.models import RefundCase
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.intake.reading import ReadMail
from refunddesk.notifications.threading import tracking_in_reference

# A word that could be an order id: what billing systems use (letters, digits, - and _).
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{3,63}")
# A tracking number as written (K7QH-3M9T-XW4) or run together (K7QH3M9TXW4).
_TRACKING = re.compile(r"\b[2-9A-Za-z]{4}-?[2-9A-Za-z]{4}-?[2-9A-Za-z]{3}\b")
_PLUS = re.compile(r"^[^@+]+\+([^@]+)@")
_LINE_IDS = re.compile(r"[,，、;；\s]+")


def _field(*names: str) -> re.Pattern[str]:
    joined = "|".join(re.escape(name) for name in names)
    return re.compile(rf"^[ \t>*]*(?:{joined})(?:\s*/\s*(?:{joined}))?\s*[:：]\s*(.+?)\s*$",
                      re.MULTILINE | re.IGNORECASE)


FIELDS = {
    "account": _field("账户", "账号", "Account"),
    "order": _field("订单", "订单号", "Order"),
    "lines": _field("订单行", "Lines", "Line"),
    "reason": _field("原因", "退款原因", "Reason"),
}


@dataclass
class Request:
    account: Account | None
    orders: list[Order]
    line_ids: list[str]  # empty: every line the order still has free
    reason: str


def account_of(address: str) -> Account | None:
    """The one account with this e-mail address; None when none or several have it (a
    person then decides whose it is)."""
    found = list(Account.objects.filter(email__iexact=address)[:2]) if address else []
    return found[0] if len(found) == 1 else None


def fields_of(text: str) -> dict[str, str]:
    found = {}
    for name, pattern in FIELDS.items():
        match = pattern.search(text)
        if match:
            found[name] = match.group(1).strip()
    return found


def read_request(mail: ReadMail) -> Request:
    # Order ids anywhere, quotes included: a forwarded invoice names the order below the
    # customer's own words. The fields of the format only count in what they wrote.
    text = f"{mail.subject}\n{mail.text}"
    fields = fields_of(mail.reply or mail.text)
    account = account_of(mail.from_address)
    orders: list[Order] = []
    if account is not None:
        words = set(_WORD.findall(text))
        words |= {word.upper() for word in words}
        orders = list(Order.objects.filter(account=account, external_id__in=words)
                      .order_by("placed_at"))
        if "account" in fields and fields["account"] != account.external_id:
            account = None  # the mail says it is about someone else's account
    line_ids = [part for part in _LINE_IDS.split(fields.get("lines", "")) if part]
    return Request(account, orders, line_ids, fields.get("reason", ""))


def answered_case(mail: ReadMail) -> RefundCase | None:
    """The case this mail replies to: by the tracking number in the address it was sent
    to (refunds+K7QH3M9TXW4@…), in the case e-mail it answers (In-Reply-To, References:
    notifications/threading.py), else in its subject."""
    candidates = [match.group(1) for address in mail.to_addresses
                  if (match := _PLUS.match(address))]
    candidates += filter(None, map(tracking_in_reference, mail.in_reply_to))
    candidates += _TRACKING.findall(mail.subject)
    for candidate in candidates:
        try:
            number = normalise(candidate)
        except NotATrackingNumber:
            continue
        case = RefundCase.objects.select_related("account").filter(
            tracking_number=number).first()
        if case is not None:
            return case
    return None
