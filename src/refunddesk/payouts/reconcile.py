"""Reconciliation: a gateway's settlement file set against our payouts.

Finance uploads the CSV file a provider sends (one row per refund it made); each row is
matched by (gateway, provider's refund id) to a payout and compared with it, and every
succeeded payout of the file's period that the file does not list is reported missing. The
result is kept as a Settlement with its lines. Nothing here changes a payout: a difference
is for finance to look into and decide, through the payout actions.

The file is read in full and checked before anything is stored: a file with a single bad
row is refused as a whole, with the line and column of each problem, so a corrected file
can be imported as if the first attempt had never happened.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.cases.errors import CaseError
from refunddesk.core.money import format_money
from refunddesk.payouts.gateways import gateway as gateway_adapter
from refunddesk.payouts.gateways.base import GatewayError
from refunddesk.payouts.models import (
    OUTSIDE_GATEWAY,
    Payout,
    PayoutState,
    Settlement,
    SettlementLine,
    SettlementOutcome,
)
from refunddesk.payouts.permissions import require_reconcile
from refunddesk.policy.money import MoneyError, check_currency, format_amount, parse_amount

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# A file with many bad rows is refused after this many problems: enough to see the pattern.
MAX_PROBLEMS = 20
COLUMNS = ("refund_id", "amount", "currency", "settled_at", "status")
MAX_REFUND_ID = 128
LOOKUP_CHUNK = 500  # refund ids per query: well under every database's parameter limit

# What providers call a refund's state in their files, by what it means for ours.
SETTLED, FAILED, PENDING = "settled", "failed", "pending"
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("succeeded", "settled", "success", "successful", "paid", "completed"),
                    SETTLED),
    **dict.fromkeys(("failed", "failure", "reversed", "returned", "canceled", "cancelled",
                     "rejected"), FAILED),
    **dict.fromkeys(("pending", "processing", "submitted", "in_transit"), PENDING),
}
# Which of our states agree with each meaning; any other is a difference.
AGREEING_STATES: dict[str, frozenset[str]] = {
    SETTLED: frozenset({PayoutState.SUCCEEDED}),
    FAILED: frozenset({PayoutState.FAILED}),
    PENDING: frozenset({PayoutState.PENDING, PayoutState.SUBMITTED,
                        PayoutState.REQUIRES_ACTION, PayoutState.UNKNOWN}),
}


class SettlementFileError(CaseError):
    """The file cannot be imported; `problems` lists what is wrong, line by line (at most
    MAX_PROBLEMS), `message` is the first of them."""

    code = "settlement_file_error"

    def __init__(self, message: Any, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [str(message)]


@dataclass(frozen=True)
class FileRow:
    line: int
    refund_id: str
    amount_minor: int
    currency: str
    settled_at: datetime
    status: str  # the file's word, lower case


def known_gateways() -> list[str]:
    """The names a settlement file can be imported for: every configured gateway, and the
    payouts finance recorded as paid outside RefundDesk (a bank statement of them)."""
    return [*settings.REFUNDDESK_GATEWAYS, OUTSIDE_GATEWAY]


# -- reading the file -----------------------------------------------------------------------

def _read_bytes(uploaded_file: Any) -> bytes:
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise SettlementFileError(_too_large())
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data: bytes | str = uploaded_file.read(MAX_BYTES + 1)  # str from a file opened as text
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise SettlementFileError(_too_large())
    return data


def _too_large() -> str:
    return _("The file is larger than %(size)s MB. Split it by date into smaller files and "
             "import each.") % {"size": MAX_BYTES // (1024 * 1024)}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SettlementFileError(
            _("Line %(line)s: the file is not UTF-8 text. Save it as CSV in UTF-8 and import "
              "it again.") % {"line": line}) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of each CSV record that is not blank."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise SettlementFileError(
                _("Line %(line)s: the file cannot be read as CSV (%(error)s).")
                % {"line": reader.line_num or start, "error": error}) from None
        if any(field.strip() for field in fields):
            yield start, fields


def _columns(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in COLUMNS:
            if name in positions:
                raise SettlementFileError(_("Line 1: the column %(column)s is named twice.")
                                          % {"column": name})
            positions[name] = position
    missing = [name for name in COLUMNS if name not in positions]
    if missing:
        message = _("The first line of the file does not name the column(s) %(missing)s. It "
                    "must name the columns refund_id, amount, currency, settled_at and "
                    "status, in any order; it names: %(found)s.") % {
            "missing": ", ".join(missing),
            "found": ", ".join(name for name in names if name) or "—"}
        if len(names) == 1 and ";" in names[0]:
            message += " " + _("Its columns seem to be separated by “;”: save the file as "
                               "comma-separated CSV.")
        raise SettlementFileError(message)
    return positions


def _problem(line: int, column: str, text: str) -> str:
    return _("Line %(line)s, column %(column)s: %(problem)s") % {
        "line": line, "column": column, "problem": text}


def _parse_row(line: int, fields: list[str], columns: dict[str, int]
               ) -> tuple[FileRow | None, list[str]]:
    values = {name: (fields[index].strip() if index < len(fields) else "")
              for name, index in columns.items()}
    problems = [_problem(line, name, _("the value is empty."))
                for name in COLUMNS if not values[name]]
    if problems:
        return None, problems
    refund_id = values["refund_id"]
    if len(refund_id) > MAX_REFUND_ID:
        problems.append(_problem(line, "refund_id", _("the refund id is longer than "
                                                      "%(max)s characters.")
                                 % {"max": MAX_REFUND_ID}))
    currency = values["currency"].upper()
    amount = None
    try:
        check_currency(currency)
    except MoneyError:
        problems.append(_problem(line, "currency", _("“%(value)s” is not a currency code.")
                                 % {"value": values["currency"]}))
    else:
        # Some providers write a refund as money out, with a minus sign; its size counts.
        text = values["amount"].removeprefix("-")
        try:
            amount = parse_amount(text, currency)
        except MoneyError:
            problems.append(_problem(line, "amount", _("“%(value)s” is not an amount.")
                                     % {"value": values["amount"]}))
    settled_at = _parse_time(values["settled_at"])
    if settled_at is None:
        problems.append(_problem(line, "settled_at", _(
            "“%(value)s” is not a time with its UTC offset (like "
            "2026-03-01T10:00:00+08:00).") % {"value": values["settled_at"]}))
    status = values["status"].lower()
    if status not in STATUS_WORDS:
        problems.append(_problem(line, "status", _(
            "“%(value)s” is not a status RefundDesk knows (%(known)s).")
            % {"value": values["status"], "known": ", ".join(sorted(STATUS_WORDS))}))
    if problems or amount is None or settled_at is None:
        return None, problems
    return FileRow(line, refund_id, amount, currency, settled_at, status), []


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def read_rows(text: str) -> list[FileRow]:
    """The file's rows, or a SettlementFileError listing what is wrong with them."""
    records = _records(text)
    header = next(records, None)
    if header is None:
        raise SettlementFileError(_(
            "The file is empty. A settlement file starts with a line naming its columns "
            "(refund_id, amount, currency, settled_at, status), then has one line per "
            "refund."))
    columns = _columns(header[1])
    rows: list[FileRow] = []
    problems: list[str] = []
    for count, (line, fields) in enumerate(records, start=1):
        if count > MAX_ROWS:
            raise SettlementFileError(_(
                "The file has more than %(max)s rows. Split it by date into smaller files "
                "and import each.") % {"max": f"{MAX_ROWS:,}"})
        row, found = _parse_row(line, fields, columns)
        if row is not None:
            rows.append(row)
        problems.extend(found)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise SettlementFileError(problems[0], problems[:MAX_PROBLEMS])
    if not rows:
        raise SettlementFileError(_("The file names its columns but lists no refunds: "
                                    "there is nothing to reconcile."))
    return rows


def _provider_rows(name: str, data: bytes) -> list[FileRow] | None:
    """The rows of a file in the provider's own format (Alipay's bill, WeChat Pay's refund
    bill, PayPal's settlement report), or None for RefundDesk's generic CSV."""
    try:
        adapter = gateway_adapter(name)
    except GatewayError:
        return None  # "outside" and gateways no longer configured: the generic CSV
    try:
        rows = adapter.read_statement(data)
    except SettlementFileError:
        raise
    except Exception:
        # A damaged file the reader did not foresee: refused like any bad file, not a 500.
        log.exception("a %s statement file could not be read", name)
        raise SettlementFileError(_("The file cannot be read as %(gateway)s's statement. "
                                    "Download it again from the provider, unchanged, and "
                                    "import it again.") % {"gateway": name}) from None
    if rows is not None and not rows:
        raise SettlementFileError(_("The file lists no refunds: there is nothing to "
                                    "reconcile."))
    return rows


# -- comparing ------------------------------------------------------------------------------

def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _payouts_by_refund_id(gateway: str, refund_ids: Iterable[str]) -> dict[str, Payout]:
    found: dict[str, Payout] = {}
    for chunk in _chunks(sorted(set(refund_ids)), LOOKUP_CHUNK):
        for payout in Payout.objects.filter(gateway=gateway, gateway_refund_id__in=chunk):
            found[payout.gateway_refund_id] = payout
    return found


def differences(row: FileRow, payout: Payout) -> list[dict[str, Any]]:
    """How the file's row and our payout disagree, as data: the words are chosen when the
    result is shown, in the reader's language (`describe`)."""
    found: list[dict[str, Any]] = []
    if row.currency != payout.currency:
        found.append({"field": "currency", "ours": payout.currency, "theirs": row.currency})
    elif row.amount_minor != payout.amount_minor:
        found.append({"field": "amount", "currency": payout.currency,
                      "ours": format_amount(payout.amount_minor, payout.currency),
                      "theirs": format_amount(row.amount_minor, row.currency)})
    if payout.state not in AGREEING_STATES[STATUS_WORDS[row.status]]:
        found.append({"field": "status", "ours": payout.state, "theirs": row.status})
    return found


def _line(settlement: Settlement, row: FileRow, payout: Payout | None,
          found: list[dict[str, Any]]) -> SettlementLine:
    if payout is None:
        outcome = SettlementOutcome.UNKNOWN
    else:
        outcome = SettlementOutcome.DIFFERS if found else SettlementOutcome.MATCHED
    return SettlementLine(
        settlement=settlement, line_number=row.line, refund_id=row.refund_id,
        amount_minor=row.amount_minor, currency=row.currency, settled_at=row.settled_at,
        status=row.status, payout=payout, outcome=outcome, differences=found)


def compare(settlement: Settlement, rows: list[FileRow]) -> list[SettlementLine]:
    """One line per row of the file, then one per payout the file should list and does
    not."""
    gateway = settlement.gateway
    payouts = _payouts_by_refund_id(gateway, (row.refund_id for row in rows))
    lines_of: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        lines_of[row.refund_id].append(row.line)
    lines = []
    for row in rows:
        payout = payouts.get(row.refund_id)
        found = differences(row, payout) if payout is not None else []
        if len(lines_of[row.refund_id]) > 1:
            found.append({"field": "refund_id", "lines": lines_of[row.refund_id]})
        lines.append(_line(settlement, row, payout, found))
    listed = set(lines_of)
    expected = (Payout.objects.filter(gateway=gateway, state=PayoutState.SUCCEEDED,
                                      settled_at__gte=settlement.period_start,
                                      settled_at__lte=settlement.period_end)
                .order_by("settled_at", "id"))
    for payout in expected.iterator(chunk_size=2000):
        if payout.gateway_refund_id and payout.gateway_refund_id in listed:
            continue
        lines.append(SettlementLine(
            settlement=settlement, refund_id=payout.gateway_refund_id,
            amount_minor=payout.amount_minor, currency=payout.currency,
            settled_at=payout.settled_at, payout=payout, outcome=SettlementOutcome.MISSING))
    return lines


# -- importing ------------------------------------------------------------------------------

def _earlier_import(gateway: str, digest: str) -> None:
    earlier = (Settlement.objects.filter(gateway=gateway, sha256=digest)
               .select_related("imported_by").first())
    if earlier is not None:
        raise SettlementFileError(_(
            "This file was imported already: settlement file %(id)s (“%(name)s”), imported "
            "by %(user)s on %(date)s. Nothing was imported again.") % {
            "id": earlier.pk, "name": earlier.file_name,
            "user": earlier.imported_by.get_username(),
            "date": timezone.localtime(earlier.imported_at).strftime("%Y-%m-%d %H:%M")})


def import_settlement(uploaded_file: Any, *, gateway: str, actor: Any,
                      now: datetime | None = None) -> Settlement:
    """Read, check and compare one settlement file of `gateway`; store the result. Any
    problem with the file raises SettlementFileError and stores nothing."""
    require_reconcile(actor)
    if gateway not in known_gateways():
        raise SettlementFileError(_("There is no gateway named “%(gateway)s”. Choose one "
                                    "of: %(known)s.")
                                  % {"gateway": gateway, "known": ", ".join(known_gateways())})
    data = _read_bytes(uploaded_file)
    digest = hashlib.sha256(data).hexdigest()
    _earlier_import(gateway, digest)
    rows = _provider_rows(gateway, data)
    if rows is None:
        rows = read_rows(_decode(data))
    name = os.path.basename(getattr(uploaded_file, "name", "") or "") or "settlement.csv"
    now = now or timezone.now()
    with transaction.atomic():
        _earlier_import(gateway, digest)  # again: a colleague may have just imported it
        try:
            with transaction.atomic():
                settlement = Settlement.objects.create(
                    gateway=gateway, file_name=name[-200:], sha256=digest, imported_by=actor,
                    imported_at=now, period_start=min(row.settled_at for row in rows),
                    period_end=max(row.settled_at for row in rows))
        except IntegrityError:
            # Imported by someone else at this very moment (the unique constraint).
            _earlier_import(gateway, digest)
            raise
        lines = compare(settlement, rows)
        SettlementLine.objects.bulk_create(lines, batch_size=1000)
        counts = dict.fromkeys(SettlementOutcome.values, 0)
        for line in lines:
            counts[line.outcome] += 1
        settlement.counts = counts
        settlement.save(update_fields=["counts"])
    return settlement


# -- showing --------------------------------------------------------------------------------

def _state_label(state: str) -> str:
    return str(PayoutState(state).label) if state in PayoutState.values else state


def _amounts(difference: dict[str, Any]) -> dict[str, str]:
    """The two amounts of a difference in the reader's language; a difference stored before
    amounts were kept in the currency's unit (with `currency` beside them) is text."""
    currency = difference.get("currency")
    if not currency:
        return {"theirs": difference["theirs"], "ours": difference["ours"]}
    return {side: format_money(parse_amount(difference[side], currency), currency)
            for side in ("theirs", "ours")}


def describe(difference: dict[str, Any]) -> str:
    """One stored difference in the reader's language."""
    field = difference.get("field")
    if field == "refund_id":
        return _("Appears twice in the file (lines %(lines)s).") % {
            "lines": ", ".join(str(line) for line in difference.get("lines", []))}
    if field == "amount":
        return _("Amount: the file says %(theirs)s, ours is %(ours)s.") % _amounts(difference)
    if field == "currency":
        return _("Currency: the file says %(theirs)s, ours is %(ours)s.") % difference
    if field == "status":
        text = _("Status: the file says “%(theirs)s”, ours is “%(ours)s”.") % {
            "theirs": difference["theirs"], "ours": _state_label(difference["ours"])}
        if (difference["ours"] == PayoutState.FAILED
                and STATUS_WORDS.get(difference["theirs"]) == SETTLED):
            text += " " + _("The provider paid it although ours failed: check before "
                            "retrying or redirecting it, or the customer is paid twice.")
        return text
    return str(difference)
