"""`refunddesk report NAME`: one report table for scheduled use, every run on the record."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from refunddesk.reports.models import Export, ExportSource
from tests.reports.desk import build

pytestmark = pytest.mark.django_db

RANGE = ["--from", "2026-04-01", "--to", "2026-04-10", "--tz", "Asia/Shanghai"]


def test_prints_a_table_as_json_for_a_range_of_days(capsysbinary):
    build()
    call_command("report", "approvals", *RANGE, "--format", "json", "--language", "en")
    records = json.loads(capsysbinary.readouterr().out)
    cny = next(record for record in records if record["currency"] == "CNY")
    assert cny["approved_amount"] == "250.00" and cny["approved"] == 2
    export = Export.objects.get()
    assert export.source == ExportSource.COMMAND_LINE and export.requested_by is None
    assert export.subject == "report:approvals" and export.params["os_user"]


def test_writes_csv_in_chinese_by_default(capsysbinary):
    build()
    call_command("report", "refunded", *RANGE)
    body = capsysbinary.readouterr().out.decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][0] == "币种"
    assert rows[1] == ["CNY", "2", "250.00"]


def test_writes_excel_to_a_file(tmp_path):
    build()
    target = tmp_path / "volume.xlsx"
    call_command("report", "volume", *RANGE, "--format", "xlsx", "--output", str(target),
                 "--channel", "email")
    sheet = openpyxl.load_workbook(target).active
    assert sheet.max_row == 11  # the header and ten days
    assert sheet["B2"].value == 1  # B, by e-mail on 1 April


@pytest.mark.parametrize("arguments, message", [
    (["salaries"], "no report table 'salaries'"),
    (["volume", "--from", "1 April"], "is not a day like"),
    (["volume", "--from", "2026-04-10", "--to", "2026-04-01"], "--to is before --from"),
    (["volume", "--tz", "Mars/Olympus"], "unknown time zone"),
    (["volume", "--from", "2020-01-01", "--to", "2026-01-01"], "longer than"),
])
def test_bad_input_exits_with_status_2_and_records_nothing(arguments, message):
    with pytest.raises(CommandError, match=message) as raised:
        call_command("report", *arguments)
    assert raised.value.returncode == 2
    assert not Export.objects.exists()
