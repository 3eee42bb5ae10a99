"""WeChat Pay's refund bill (交易账单, bill_type=REFUND) as settlement rows.

The file as WeChat Pay makes it (UTF-8, perhaps with a BOM, perhaps gzipped as downloaded
with tar_type=GZIP):

    交易时间,公众账号ID,…,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,…
    `2026-03-01 10:00:03,`wx…,`1900000109,…          one line per refund, every field
    …                                                  prefixed with a backquote
    总交易单数,应结订单总金额,退款总金额,…              the summary's header
    `2,`0.00,`600.00,…                                 and the summary

Amounts are in yuan with two decimals; times are Beijing time without an offset. A row's
refund id is WeChat Pay's (微信退款单号), which is what the gateway stores for a payout. The
summary is checked against the rows (count and totals): a file cut short or edited by hand
is refused, never half-read.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from refunddesk.payouts.reconcile import MAX_PROBLEMS, MAX_ROWS, FileRow, SettlementFileError

BEIJING = ZoneInfo("Asia/Shanghai")
GZIP_MAGIC = b"\x1f\x8b"
MAX_UNPACKED = 100 * 1024 * 1024

# The columns we read; the bill has more (and WeChat Pay adds some now and then), found by
# name so their order does not matter.
TRADE_TIME, REQUESTED_TIME, SUCCESS_TIME = "交易时间", "退款申请时间", "退款成功时间"
REFUND_ID, CURRENCY = "微信退款单号", "货币种类"
REFUND_AMOUNT, REQUESTED_AMOUNT, REFUND_STATUS = "退款金额", "申请退款金额", "退款状态"
REQUIRED = (TRADE_TIME, REFUND_ID, REFUND_AMOUNT, REFUND_STATUS)
SUMMARY_COUNT, SUMMARY_REFUNDED, SUMMARY_REQUESTED = "总交易单数", "退款总金额", "申请退款总金额"

# 退款状态 in the bill → the words reconcile.STATUS_WORDS knows. WeChat Pay's values: SUCCESS,
# PROCESSING, ABNORMAL (API v2 and older bills: CHANGE) — the buyer's account could not take
# it, not final — and CLOSED (older: REFUNDCLOSE).
STATUSES = {"SUCCESS": "success", "PROCESSING": "pending", "ABNORMAL": "pending",
            "CHANGE": "pending", "CLOSED": "failed", "REFUNDCLOSE": "failed"}


@dataclass
class _Summary:
    line: int
    values: dict[str, str]


def read_refund_bill(data: bytes) -> list[FileRow]:
    text = _text(_unpacked(data))
    lines = [(number, line.rstrip("\r")) for number, line in
             enumerate(text.split("\n"), start=1) if line.strip()]
    if not lines:
        raise SettlementFileError(_("The file is empty. Download WeChat Pay's refund bill "
                                    "(bill type REFUND) and import it as it is."))
    header_line, header = lines[0]
    columns = _columns(header_line, header)
    details, summary = _split(lines[1:])
    rows: list[FileRow] = []
    problems: list[str] = []
    if len(details) > MAX_ROWS:
        raise SettlementFileError(_(
            "The file has more than %(max)s rows. Split it by date into smaller files "
            "and import each.") % {"max": f"{MAX_ROWS:,}"})
    for number, fields in details:
        row, found = _row(number, fields, columns)
        if row is not None:
            rows.append(row)
        problems.extend(found)
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:
        problems.extend(_check_summary(summary, details, rows, columns))
    if problems:
        raise SettlementFileError(problems[0], problems[:MAX_PROBLEMS])
    return rows


def _unpacked(data: bytes) -> bytes:
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
            unpacked = packed.read(MAX_UNPACKED + 1)
    except (OSError, EOFError, zlib.error):
        raise SettlementFileError(_("The file looks gzipped but cannot be unpacked. "
                                    "Download the bill again.")) from None
    if len(unpacked) > MAX_UNPACKED:
        raise SettlementFileError(_("The unpacked file is larger than %(size)s MB. Import "
                                    "a shorter period.") % {"size": MAX_UNPACKED // 2**20})
    return unpacked


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SettlementFileError(_(
            "Line %(line)s: the file is not UTF-8 text, as WeChat Pay's bills are. Import "
            "the bill as downloaded, without opening and saving it in a spreadsheet.")
            % {"line": line}) from None


def _fields(line: str) -> list[str]:
    """A backquoted line's fields. Splitting on ",`" rather than "," keeps a comma inside a
    product name or the merchant's data in its field."""
    return [field.strip() for field in line[1:].split(",`")]


def _columns(number: int, header: str) -> dict[str, int]:
    names = [name.strip() for name in header.split(",")]
    missing = [name for name in REQUIRED if name not in names]
    if header.startswith("`") or missing:
        raise SettlementFileError(_(
            "Line %(line)s: this is not WeChat Pay's refund bill: its first line must name "
            "the columns, among them %(required)s (missing: %(missing)s). Download the "
            "bill of type REFUND and import it as it is.") % {
            "line": number, "required": "、".join(REQUIRED),
            "missing": "、".join(missing) or "—"})
    return {name: position for position, name in enumerate(names)}


def _split(lines: list[tuple[int, str]]
           ) -> tuple[list[tuple[int, list[str]]], _Summary | None]:
    """The detail rows, and the summary (its header line, then its values)."""
    details: list[tuple[int, list[str]]] = []
    for index, (number, line) in enumerate(lines):
        if line.startswith("`"):
            details.append((number, _fields(line)))
            continue
        names = [name.strip() for name in line.split(",")]
        rest = lines[index + 1:]
        if rest and rest[0][1].startswith("`"):
            values = _fields(rest[0][1])
            return details, _Summary(number, dict(zip(names, values, strict=False)))
        return details, _Summary(number, {})
    return details, None


def _problem(line: int, column: str, text: str) -> str:
    return _("Line %(line)s, column %(column)s: %(problem)s") % {
        "line": line, "column": column, "problem": text}


def _row(number: int, fields: list[str], columns: dict[str, int]
         ) -> tuple[FileRow | None, list[str]]:
    if len(fields) != len(columns):
        return None, [_("Line %(line)s: %(found)s fields where the first line names "
                        "%(expected)s columns.") % {"line": number, "found": len(fields),
                                                    "expected": len(columns)}]

    def value(name: str) -> str:
        return fields[columns[name]] if name in columns else ""

    problems: list[str] = []
    refund_id = value(REFUND_ID)
    if not refund_id:
        problems.append(_problem(number, REFUND_ID, _("the value is empty.")))
    currency = (value(CURRENCY) or "CNY").upper()
    if currency != "CNY":
        problems.append(_problem(number, CURRENCY, _(
            "“%(value)s”: WeChat Pay refunds domestic payments in CNY only.")
            % {"value": value(CURRENCY)}))
    # 申请退款金额 is what we asked for (the payout's amount); 退款金额 leaves out what went
    # back to WeChat Pay's own coupons. Older bills have only 退款金额.
    amount_column = REQUESTED_AMOUNT if value(REQUESTED_AMOUNT) else REFUND_AMOUNT
    amount = _fen(value(amount_column))
    if amount is None:
        problems.append(_problem(number, amount_column, _(
            "“%(value)s” is not an amount in yuan (like 300.00).")
            % {"value": value(amount_column)}))
    status = STATUSES.get(value(REFUND_STATUS).upper())
    if status is None:
        problems.append(_problem(number, REFUND_STATUS, _(
            "“%(value)s” is not a refund status of WeChat Pay's (%(known)s).")
            % {"value": value(REFUND_STATUS), "known": ", ".join(STATUSES)}))
    # When the money went back (a success), else when it was asked for, else the trade.
    time_column = next((name for name in (SUCCESS_TIME, REQUESTED_TIME, TRADE_TIME)
                        if value(name)), TRADE_TIME)
    settled_at = _beijing(value(time_column))
    if settled_at is None:
        problems.append(_problem(number, time_column, _(
            "“%(value)s” is not a time like 2026-03-01 10:00:03.")
            % {"value": value(time_column)}))
    if problems or amount is None or settled_at is None or status is None:
        return None, problems
    return FileRow(number, refund_id, amount, "CNY", settled_at, status), []


def _fen(text: str) -> int | None:
    try:
        amount = Decimal(text.removeprefix("-"))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def _beijing(text: str) -> datetime | None:
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=BEIJING)


def _check_summary(summary: _Summary | None, details: list[tuple[int, list[str]]],
                   rows: list[FileRow], columns: dict[str, int]) -> list[str]:
    if summary is None or not summary.values:
        return [_("The file ends without WeChat Pay's summary (总交易单数, 退款总金额, …): it "
                  "may have been cut short. Download the bill again.")]
    line = summary.line + 1
    problems = []
    count = summary.values.get(SUMMARY_COUNT, "")
    if not count.isdigit() or int(count) != len(details):
        problems.append(_("Line %(line)s: the summary counts %(count)s refunds, the file "
                          "lists %(listed)s. The file is incomplete or was changed; download "
                          "it again.") % {"line": line, "count": count or "—",
                                          "listed": len(details)})
    totals = [(SUMMARY_REFUNDED, REFUND_AMOUNT), (SUMMARY_REQUESTED, REQUESTED_AMOUNT)]
    for total_name, column in totals:
        if total_name not in summary.values or column not in columns:
            continue
        total = _fen(summary.values[total_name])
        listed = sum(_fen(fields[columns[column]]) or 0 for _line, fields in details
                     if len(fields) == len(columns))
        if total is None or total != listed:
            problems.append(_("Line %(line)s: the summary's %(name)s is %(total)s, the "
                              "rows add up to %(listed)s. The file is incomplete or was "
                              "changed; download it again.") % {
                "line": line, "name": total_name, "total": summary.values[total_name],
                "listed": f"{Decimal(listed) / 100:.2f}"})
    return problems
