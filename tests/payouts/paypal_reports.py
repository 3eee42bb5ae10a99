"""PayPal settlement reports (STL) written for the tests, in PayPal's layout: RH, FH, SH,
CH, SB rows, SF/SC, RF/RC, FF, varchar fields in double quotes, amounts in hundredths with
no decimal point, times as "YYYY/MM/DD HH:MM:SS +hhmm"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

ACCOUNT = "STANDINMERCHANT1"
COLUMNS = ("Transaction ID", "Invoice ID", "PayPal Reference ID", "PayPal Reference ID Type",
           "Transaction Event Code", "Transaction Initiation Date",
           "Transaction Completion Date", "Transaction Debit or Credit",
           "Gross Transaction Amount", "Gross Transaction Currency", "Fee Debit or Credit",
           "Fee Amount", "Fee Currency", "Custom Field", "Consumer ID",
           "Payment Tracking ID", "Store ID", "Bank Reference ID",
           "Credit Transactional Fee", "Credit Promotional Fee", "Credit Term")
WHOLE = {"JPY", "HUF"}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S +0000")


def hundredths(value: str, currency: str) -> str:
    """PayPal's decimal string → the report's amount (always two implied decimals)."""
    whole, _, fraction = value.partition(".")
    return str(int(whole) * 100 + int((fraction + "00")[:2] or 0))


def q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def refund_row(refund: dict[str, Any], *, capture: str = "CAPTURE0000000001",
               moment: datetime | None = None, event: str = "T1107",
               direction: str = "DR", amount: str | None = None,
               completed: str | None = None) -> list[str]:
    when = stamp(moment or datetime.now(UTC))
    values = {
        "Transaction ID": q(refund["id"]), "Invoice ID": q(refund.get("invoice_id", "")),
        "PayPal Reference ID": q(capture), "PayPal Reference ID Type": q("TXN"),
        "Transaction Event Code": q(event), "Transaction Initiation Date": when,
        "Transaction Completion Date": completed if completed is not None else when,
        "Transaction Debit or Credit": q(direction),
        "Gross Transaction Amount": amount if amount is not None else hundredths(
            refund["amount"]["value"], refund["amount"]["currency_code"]),
        "Gross Transaction Currency": q(refund["amount"]["currency_code"]),
        "Fee Debit or Credit": q("CR"), "Fee Amount": "0",
        "Fee Currency": q(refund["amount"]["currency_code"]),
        "Custom Field": q(refund.get("custom_id", "")), "Consumer ID": q(""),
        "Payment Tracking ID": q(""), "Store ID": q(""), "Bank Reference ID": q(""),
        "Credit Transactional Fee": "", "Credit Promotional Fee": "", "Credit Term": "",
    }
    return [q("SB"), *(values[name] for name in COLUMNS)]


def payment_row(transaction_id: str = "9PAYMENT00000001", value: str = "30000",
                currency: str = "USD") -> list[str]:
    """A customer's payment (T0006, credit): not a refund, passed over."""
    return refund_row({"id": transaction_id, "amount": {"value": "0",
                                                        "currency_code": currency}},
                      event="T0006", direction="CR", amount=value)


def settlement_report(refunds: list[dict[str, Any]], *, day: datetime | None = None,
                      extra_rows: list[list[str]] | None = None,
                      section_count: int | None = None,
                      file_count: int | None = None) -> bytes:
    day = day or datetime.now(UTC)
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [refund_row(refund, moment=_time(refund, day)) for refund in refunds]
    rows += extra_rows or []
    lines = [
        f'"RH",{stamp(day + timedelta(hours=3))},"A",{q(ACCOUNT)},009,',
        '"FH",01',
        f'"SH",{stamp(start)},{stamp(start + timedelta(hours=23, minutes=59, seconds=59))},'
        f'{q(ACCOUNT)},""',
        ",".join([q("CH"), *(q(name) for name in COLUMNS)]),
        *(",".join(row) for row in rows),
    ]
    totals: dict[str, int] = {}
    for refund in refunds:
        currency = refund["amount"]["currency_code"]
        totals[currency] = totals.get(currency, 0) + int(
            hundredths(refund["amount"]["value"], currency))
    for currency, debit in sorted(totals.items()) or [("USD", 0)]:
        lines.append(f'"SF",{q(currency)},0,{debit},0,0,"CR",0,"CR",0,"CR",0,"CR",0')
    count = len(rows)
    lines.append(f'"SC",{count if section_count is None else section_count}')
    for currency, debit in sorted(totals.items()) or [("USD", 0)]:
        lines.append(f'"RF",{q(currency)},0,{debit},0,0,"CR",0,"CR",0,"CR",0,"CR",0')
    lines.append(f'"RC",{count}')
    lines.append(f'"FF",{count if file_count is None else file_count}')
    return ("\n".join(lines) + "\n").encode("utf-8")


def _time(refund: dict[str, Any], day: datetime) -> datetime:
    text = refund.get("update_time")
    if isinstance(text, str) and text:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return day


def upload(data: bytes, name: str = "STL-20260301.01.009.CSV") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")
