"""PayPal's Settlement Report (STL-yyyymmdd.NN.009.CSV, from the Secure FTP server or the
reports page), read into reconciliation rows.

Each record starts with its type: RH report header, FH file header, SH section header, CH
the section's column names, SB one transaction, SF/SC section footer and its SB count,
RF/RC report footer and count, FF file footer and count. Refunds we made are SB rows with
transaction event code T1107 (payment refund, initiated by the merchant), debit (DR); the
transaction id is the refund's id, as the Payments API gives it. Amounts carry no decimal
point and always two implied decimals ("100,00 yen and $100.00 USD are both represented as
10000"); times are "YYYY/MM/DD HH:MM:SS +hhmm". Every other row (payments, fees,
withdrawals) is not a refund and is passed over. A file whose counts do not add up has
lost rows, and is refused.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from django.utils.translation import gettext as _

from refunddesk.payouts.reconcile import MAX_PROBLEMS, FileRow, SettlementFileError
from refunddesk.policy.money import MoneyError, check_currency, minor_digits

REFUND_EVENT = "T1107"
TIME_FORMAT = "%Y/%m/%d %H:%M:%S %z"
# The columns read, by their names in the CH record (PayPal has spelled "Transaction
# Debit or Credit" with two spaces in some versions: names are compared without that).
ID, EVENT, DIRECTION = "transaction id", "transaction event code", \
    "transaction debit or credit"
AMOUNT, CURRENCY = "gross transaction amount", "gross transaction currency"
COMPLETED, INITIATED = "transaction completion date", "transaction initiation date"
REQUIRED = (ID, EVENT, DIRECTION, AMOUNT, CURRENCY, COMPLETED)


def _name(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Reader:
    def __init__(self) -> None:
        self.rows: list[FileRow] = []
        self.problems: list[str] = []
        self.columns: dict[str, int] | None = None
        self.section_count = self.file_count = 0
        self.has_report_header = self.has_file_footer = False

    def problem(self, line: int, text: str) -> None:
        self.problems.append(_("Line %(line)s: %(problem)s") % {"line": line,
                                                                 "problem": text})
        if len(self.problems) >= MAX_PROBLEMS:
            raise SettlementFileError(self.problems[0], self.problems)

    def record(self, line: int, fields: list[str]) -> None:
        kind = fields[0].strip()
        if not self.has_report_header and kind != "RH":
            self.problem(line, _("a PayPal settlement report starts with its report header "
                                 "(RH); this line is “%(kind)s”.") % {"kind": kind[:10]})
            self.has_report_header = True  # said once
            return
        if kind == "RH":
            self.has_report_header = True
        elif kind == "SH":
            self.columns, self.section_count = None, 0
        elif kind == "CH":
            self.columns = {_name(name): index for index, name in enumerate(fields)}
            missing = [name for name in REQUIRED if name not in self.columns]
            if missing:
                self.columns = None
                self.problem(line, _("the column header (CH) lacks the column(s) "
                                     "%(missing)s.") % {"missing": ", ".join(missing)})
        elif kind == "SB":
            self.section_count += 1
            self.file_count += 1
            self.body(line, fields)
        elif kind == "SC":
            self.count(line, fields, self.section_count, kind)
        elif kind == "RC":
            self.count(line, fields, self.file_count, kind)
        elif kind == "FF":
            self.has_file_footer = True
            self.count(line, fields, self.file_count, kind)
        elif kind not in ("FH", "SF", "RF"):
            self.problem(line, _("“%(kind)s” is not a record type of PayPal's settlement "
                                 "report.") % {"kind": kind[:10]})

    def count(self, line: int, fields: list[str], counted: int, what: str) -> None:
        text = fields[1].strip() if len(fields) > 1 else ""
        if not (text.isascii() and text.isdigit()):
            self.problem(line, _("the row count of the footer %(kind)s, “%(value)s”, is "
                                 "not a number.") % {"kind": what, "value": text})
        elif int(text) != counted:
            self.problem(line, _("the footer %(kind)s counts %(said)s transaction rows, "
                                 "but %(found)s came before it: the file is incomplete or "
                                 "was changed. Download it from PayPal again.")
                         % {"kind": what, "said": int(text), "found": counted})

    def body(self, line: int, fields: list[str]) -> None:
        if self.columns is None:
            self.problem(line, _("a transaction row (SB) comes before the column header "
                                 "(CH) of its section."))
            return

        def value(name: str) -> str:
            index = self.columns.get(name) if self.columns else None
            return fields[index].strip() if index is not None and index < len(fields) else ""

        if value(EVENT) != REFUND_EVENT:
            return  # a payment, a fee, a withdrawal: not a refund of ours
        refund_id, direction = value(ID), value(DIRECTION)
        found: list[str] = []
        if not refund_id:
            found.append(_("the refund has no transaction id."))
        if direction != "DR":
            found.append(_("a refund (T1107) must be a debit (DR), not “%(value)s”.")
                         % {"value": direction})
        currency = value(CURRENCY).upper()
        amount = None
        try:
            check_currency(currency)
        except MoneyError:
            found.append(_("“%(value)s” is not a currency code.") % {"value": value(CURRENCY)})
        else:
            amount = _minor(value(AMOUNT), currency)
            if amount is None:
                found.append(_("“%(value)s” is not an amount in hundredths of %(currency)s.")
                             % {"value": value(AMOUNT), "currency": currency})
        settled_at = _time(value(COMPLETED) or value(INITIATED))
        if settled_at is None:
            found.append(_("“%(value)s” is not a time like 2026/03/01 10:00:00 +0800.")
                         % {"value": value(COMPLETED)})
        for text in found:
            self.problem(line, text)
        if not found and amount is not None and settled_at is not None:
            self.rows.append(FileRow(line, refund_id, amount, currency, settled_at,
                                     "success"))


def _minor(text: str, currency: str) -> int | None:
    """Hundredths of the currency's unit → our minor units (JPY "150000" → 1500)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    scaled = int(text) * 10 ** minor_digits(currency)
    whole, rest = divmod(scaled, 100)
    return None if rest else whole


def _time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        return None


def read_settlement_report(data: bytes) -> list[FileRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SettlementFileError(_(
            "Line %(line)s: the file is not UTF-8 text, as PayPal's settlement report is. "
            "Import the file as downloaded from PayPal.")
            % {"line": data.count(b"\n", 0, error.start) + 1}) from None
    reader = _Reader()
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = records.line_num + 1
        try:
            fields = next(records)
        except StopIteration:
            break
        except csv.Error as error:
            reader.problem(records.line_num or start, _("the line cannot be read as CSV "
                                                       "(%(error)s).") % {"error": error})
            break
        if any(field.strip() for field in fields):
            reader.record(start, fields)
    if not reader.has_report_header:
        raise SettlementFileError(_("The file is empty: it is not a PayPal settlement "
                                    "report."))
    if not reader.has_file_footer and not reader.problems:
        reader.problems.append(_("The file ends without its footer (FF): it is "
                                 "incomplete. Download it from PayPal again."))
    if reader.problems:
        raise SettlementFileError(reader.problems[0], reader.problems[:MAX_PROBLEMS])
    return reader.rows
