"""Alipay's bill (对账单) as finance downloads it from the merchant console: a `csv.zip`
whose members are GBK text, one of them the detail list (业务明细) and one its summary
(业务明细(汇总)). The detail file has `#` lines around the list (the account, the period,
"业务明细列表", then after it "业务明细列表结束" and the export time), a header line and
one line per trade or refund, its values often padded with tabs.

Rows of 业务类型 "退款" are refunds: their 退款批次号/请求号 is the out_request_no we sent,
which is the refund id stored on the payout; the amount is what left the merchant
(商家实收, negative); 完成时间 is Beijing time. Trades (交易) and anything else are not
refunds and are passed over. The detail file alone (GBK or UTF-8) is taken too.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from django.utils.translation import gettext as _

from refunddesk.payouts.gateways.alipay_client import BEIJING, TIMESTAMP_FORMAT
from refunddesk.payouts.reconcile import (
    MAX_PROBLEMS,
    MAX_REFUND_ID,
    MAX_ROWS,
    FileRow,
    SettlementFileError,
)
from refunddesk.policy.money import MoneyError, parse_amount

DETAIL, SUMMARY = "业务明细", "汇总"
TYPE, REFUND_NUMBER = "业务类型", "退款批次号/请求号"
RECEIVED, FINISHED = "商家实收（元）", "完成时间"
REQUIRED = (TYPE, REFUND_NUMBER, RECEIVED, FINISHED)
REFUND_TYPE = "退款"
END_MARK = "业务明细列表结束"
CURRENCY = "CNY"  # Alipay's domestic bill is in yuan
# A detail file unpacked is far larger than its zip; beyond this it is no bill of ours.
MAX_UNPACKED = 200 * 1024 * 1024


def read_bill(data: bytes) -> list[FileRow]:
    """The refund rows of an Alipay bill (the csv.zip, or its detail CSV), or
    SettlementFileError naming each problem by line."""
    if data.startswith(b"PK\x03\x04"):
        data = _detail_member(data)
    return _rows(_text(data))


def _member_name(info: zipfile.ZipInfo) -> str:
    # Alipay's zip names its members in GBK without the zip format's UTF-8 flag, so the
    # zipfile module reads them as code page 437; turned back, they are readable again.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _detail_member(data: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise SettlementFileError(_("The file looks like a zip archive but cannot be opened "
                                    "(%(error)s). Download the bill from Alipay again.")
                                  % {"error": error}) from None
    details = [info for info in members
               if DETAIL in _member_name(info) and SUMMARY not in _member_name(info)]
    names = ", ".join(_member_name(info) for info in members) or "—"
    if len(details) != 1:
        message = (_("The zip archive has no detail file (a name with “业务明细” but not "
                     "“汇总”); it holds: %(names)s. Import the bill of account details "
                     "(业务明细) downloaded from Alipay.") if not details else
                   _("The zip archive holds more than one detail file (%(names)s). Import "
                     "one bill at a time."))
        raise SettlementFileError(message % {"names": names if not details else ", ".join(
            _member_name(info) for info in details)})
    detail = details[0]
    if detail.file_size > MAX_UNPACKED:
        raise SettlementFileError(_("The detail file in the zip archive is larger than "
                                    "%(size)s MB unpacked. Download the bill for a shorter "
                                    "period.") % {"size": MAX_UNPACKED // (1024 * 1024)})
    try:
        with archive.open(detail) as member:
            unpacked = member.read(MAX_UNPACKED + 1)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as error:
        raise SettlementFileError(_("The detail file in the zip archive cannot be read "
                                    "(%(error)s). Download the bill from Alipay again.")
                                  % {"error": error}) from None
    if len(unpacked) > MAX_UNPACKED:
        raise SettlementFileError(_("The detail file in the zip archive is larger than "
                                    "%(size)s MB unpacked. Download the bill for a shorter "
                                    "period.") % {"size": MAX_UNPACKED // (1024 * 1024)})
    return unpacked


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # GBK, as Alipay writes it, and its superset
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SettlementFileError(_("Line %(line)s: the file is neither GBK nor UTF-8 text. "
                                    "Import the bill as downloaded from Alipay.")
                                  % {"line": line}) from None


def _header_name(text: str) -> str:
    # Spreadsheet programs sometimes save the full-width brackets as ASCII ones.
    return text.strip().replace("(", "（").replace(")", "）")


def _fields(line: str) -> list[str]:
    return [value.strip() for value in next(csv.reader([line]), [])]


def _rows(text: str) -> list[FileRow]:
    lines = text.splitlines()
    header_at, columns = _header(lines)
    rows: list[FileRow] = []
    problems: list[str] = []
    ended = False
    for number, line in enumerate(lines[header_at + 1:], start=header_at + 2):
        if line.lstrip().startswith("#"):
            ended = ended or END_MARK in line
            continue
        if not line.strip(" \t,"):
            continue
        if ended:
            problems.append(_("Line %(line)s: a line after the end of the detail list "
                              "(“%(mark)s”). Import the bill as downloaded from Alipay.")
                            % {"line": number, "mark": END_MARK})
        else:
            try:
                fields = _fields(line)
            except csv.Error as error:
                problems.append(_("Line %(line)s: the line cannot be read as CSV "
                                  "(%(error)s).") % {"line": number, "error": error})
                continue
            row, found = _row(number, fields, columns)
            problems.extend(found)
            if row is not None:
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    raise SettlementFileError(_(
                        "The file has more than %(max)s rows. Split it by date into smaller "
                        "files and import each.") % {"max": f"{MAX_ROWS:,}"})
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise SettlementFileError(problems[0], problems[:MAX_PROBLEMS])
    return rows


def _header(lines: list[str]) -> tuple[int, dict[str, int]]:
    for index, line in enumerate(lines):
        if line.lstrip().startswith("#") or not line.strip():
            continue
        try:
            names = [_header_name(name) for name in _fields(line)]
        except csv.Error:
            names = []
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise SettlementFileError(_(
                "Line %(line)s: this is not the header of Alipay's bill of account details "
                "(业务明细): it lacks the column(s) %(missing)s. Import the bill (the csv.zip, "
                "or its 业务明细 file) as downloaded from Alipay.")
                % {"line": index + 1, "missing": ", ".join(missing)})
        return index, {name: names.index(name) for name in REQUIRED}
    raise SettlementFileError(_("The file has no list of account details: no header line "
                                "naming 业务类型, 退款批次号/请求号, 商家实收（元） and 完成时间. "
                                "Import the bill as downloaded from Alipay."))


def _row(line: int, fields: list[str], columns: dict[str, int]
         ) -> tuple[FileRow | None, list[str]]:
    def value(name: str) -> str:
        index = columns[name]
        return fields[index] if index < len(fields) else ""

    def problem(column: str, text: str) -> str:
        return str(_("Line %(line)s, column %(column)s: %(problem)s") % {
            "line": line, "column": column, "problem": text})

    if value(TYPE) != REFUND_TYPE:
        return None, []  # a trade, not a refund
    problems = []
    refund_id = value(REFUND_NUMBER)
    if not refund_id:
        problems.append(problem(REFUND_NUMBER, _("a refund without its request number.")))
    elif len(refund_id) > MAX_REFUND_ID:
        problems.append(problem(REFUND_NUMBER, _("the request number is longer than %(max)s "
                                                 "characters.") % {"max": MAX_REFUND_ID}))
    amount = None
    try:
        amount = parse_amount(value(RECEIVED).removeprefix("-"), CURRENCY)
    except MoneyError:
        problems.append(problem(RECEIVED, _("“%(value)s” is not an amount in yuan.")
                                % {"value": value(RECEIVED)}))
    settled_at = None
    try:
        settled_at = datetime.strptime(value(FINISHED), TIMESTAMP_FORMAT).replace(
            tzinfo=BEIJING)
    except ValueError:
        problems.append(problem(FINISHED, _("“%(value)s” is not a time like 2026-03-01 "
                                            "10:00:00.") % {"value": value(FINISHED)}))
    if problems or amount is None or settled_at is None:
        return None, problems
    return FileRow(line, refund_id, amount, CURRENCY, settled_at, "success"), []
