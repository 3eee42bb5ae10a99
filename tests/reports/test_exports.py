"""Exports opened and read back: CSV with `csv`, Excel with openpyxl, JSON with `json`;
large lists built in the background with their progress, each export on the record."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from urllib.parse import urlencode

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from refunddesk.policy.money import Money
from refunddesk.reports import exports
from refunddesk.reports.exporting import write
from refunddesk.reports.models import Export, ExportState
from refunddesk.reports.tables import Column, Kind
from tests.console import queue_builders
from tests.console.case_builders import EN
from tests.reports.desk import build

COLUMNS = [Column("day", "日期", Kind.DATE), Column("product", "产品"),
           Column("cases", "Cases", Kind.COUNT), Column("amount", "Amount", Kind.AMOUNT),
           Column("share", "Share", Kind.PERCENT), Column("hours", "Hours", Kind.HOURS),
           Column("at", "At", Kind.DATETIME)]
ROWS = [(date(2026, 4, 1), "云服务器", 3, Money(123456, "CNY"), 0.125, 26.5,
         datetime(2026, 4, 1, 9, 30)),
        (date(2026, 4, 2), "VPN", 1, Money(500, "JPY"), None, None, None)]


def written(format: str) -> bytes:
    stream = io.BytesIO()
    assert write(format, COLUMNS, iter(ROWS), stream, title="退款/报表") == 2
    return stream.getvalue()


def test_csv_starts_with_a_byte_order_mark_and_keeps_chinese_and_exact_amounts():
    body = written("csv")
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["日期", "产品", "Cases", "Amount", "Share", "Hours", "At"]
    assert rows[1] == ["2026-04-01", "云服务器", "3", "1234.56", "0.1250", "26.50",
                       "2026-04-01T09:30:00"]
    assert rows[2] == ["2026-04-02", "VPN", "1", "500", "", "", ""]


def test_excel_has_numbers_with_the_currencys_decimals_percentages_and_dates():
    book = openpyxl.load_workbook(io.BytesIO(written("xlsx")))
    sheet = book.active
    assert sheet.title == "退款 报表"
    assert [cell.value for cell in sheet[1]] == ["日期", "产品", "Cases", "Amount", "Share",
                                                 "Hours", "At"]
    day, product, cases, amount, share, hours, at = sheet[2]
    assert day.value == datetime(2026, 4, 1) and day.number_format == "yyyy-mm-dd"
    assert product.value == "云服务器"
    assert cases.value == 3
    assert amount.value == pytest.approx(1234.56) and amount.number_format == "#,##0.00"
    assert share.value == 0.125 and share.number_format == "0.0%"
    assert hours.value == 26.5
    assert at.value == datetime(2026, 4, 1, 9, 30)
    yen = sheet["D3"]
    assert yen.value == 500 and yen.number_format == "#,##0"
    assert sheet["E3"].value is None


def test_json_gives_amounts_as_decimal_strings():
    records = json.loads(written("json"))
    assert records[0]["amount"] == "1234.56"
    assert records[0]["product"] == "云服务器"
    assert records[1]["share"] is None


# -- through the console ------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def case_export_url(format: str, **query: str) -> str:
    return f"{reverse('console:case_export', args=[format])}?{urlencode(query, doseq=True)}"


def test_the_queues_cases_export_to_excel_with_the_queues_filters(staff_client):
    desk = build()
    client = staff_client("reviewer")
    response = client.get(case_export_url("xlsx", state="in_review", currency="USD"),
                          headers=EN)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    numbers = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert numbers == [desk.cases["F"].tracking_number]
    header = [cell.value for cell in sheet[1]]
    assessed = sheet.cell(row=2, column=header.index("Assessed refund") + 1)
    assert assessed.value == 70.0 and assessed.number_format == "#,##0.00"
    export = Export.objects.get()
    assert export.subject == "cases" and export.params["query"]["currency"] == ["USD"]


def test_agents_may_not_export_the_case_list(staff_client):
    build()
    response = staff_client("agent").get(case_export_url("csv"))
    assert response.status_code == 403
    assert not Export.objects.exists()


def test_finance_exports_the_payouts_with_the_pages_filters(staff_client):
    build()
    client = staff_client("finance")
    url = f"{reverse('console:payout_export', args=['csv'])}?state=failed"
    response = client.get(url, headers=EN)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and "expired_card" in rows[1] and "60.00" in rows[1]
    assert staff_client("agent").get(url).status_code == 403


def test_a_large_export_is_built_in_the_background_with_its_progress(staff_client,
                                                                     monkeypatch):
    monkeypatch.setattr(exports, "INLINE_ROWS", 3)
    queue_builders.many(5, state="in_review")
    client = staff_client("admin")
    url = case_export_url("csv", state="in_review")
    confirm = client.get(url, headers=EN)
    assert confirm.status_code == 200
    assert "This export has 5 rows" in confirm.content.decode()
    assert not Export.objects.exists()  # nothing happens before it is confirmed

    response = client.post(url, {"query": "state=in_review"}, headers=EN)
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:export", args=[export.pk])
    assert export.state == ExportState.QUEUED
    page = client.get(response["Location"], headers=EN).content.decode()
    assert "<progress" in page and "hx-trigger" in page

    assert exports.build_export.call(export.pk) == ExportState.DONE
    export.refresh_from_db()
    assert (export.rows_total, export.rows_done, export.progress_percent) == (5, 5, 100)
    page = client.get(reverse("console:export", args=[export.pk]), headers=EN).content.decode()
    assert "hx-trigger" not in page
    download = client.get(reverse("console:export_download", args=[export.pk]))
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content)
                                       .decode("utf-8-sig"))))
    assert len(rows) == 6
    # Run again (a worker that died after the file was written): nothing is built twice.
    assert exports.build_export.call(export.pk) == ExportState.DONE


def test_someone_elses_export_does_not_exist_for_you(staff_client, make_staff):
    owner = make_staff("admin", "owner")
    export = exports.request_export("cases", {"query": {}, "tz": "UTC"}, "csv", actor=owner,
                                    language="en")
    exports.build_export.call(export.pk)
    client = staff_client("admin")
    for name in ("console:export", "console:export_download"):
        assert client.get(reverse(name, args=[export.pk])).status_code == 404


def test_an_export_whose_requester_lost_the_role_fails_instead_of_leaking(make_staff):
    owner = make_staff("admin", "owner")
    export = exports.request_export("cases", {"query": {}, "tz": "UTC"}, "csv", actor=owner,
                                    language="en")
    owner.groups.clear()
    assert exports.build_export.call(export.pk) == ExportState.FAILED
    export.refresh_from_db()
    assert export.error and not export.file


def test_my_exports_lists_my_own_exports(staff_client, make_staff):
    client = staff_client("reviewer")
    with translation.override("en"):
        exports.export_now("report:volume", {"from": "2026-04-01", "to": "2026-04-02",
                                             "tz": "UTC"}, "csv", actor=client.user,
                           language="en")
    page = client.get(reverse("console:exports"), headers=EN).content.decode()
    assert "report:volume" in page
    other = staff_client("reviewer", "someone-else")
    page = other.get(reverse("console:exports"), headers=EN).content.decode()
    assert "report:volume" not in page and "You have not exported anything yet" in page


@pytest.mark.parametrize("role, may_see", [("admin", True), ("reviewer", False),
                                           ("finance", False), ("agent", False)])
def test_the_audit_of_exports_is_read_in_the_administration_by_admins(staff_client, role,
                                                                      may_see):
    client = staff_client(role)
    exports.export_now("report:volume", {"from": "2026-04-01", "to": "2026-04-02",
                                         "tz": "UTC"}, "csv", actor=client.user, language="en")
    export = Export.objects.get()
    listing = client.get(reverse("admin:reports_export_changelist"), headers=EN)
    detail = client.get(reverse("admin:reports_export_change", args=[export.pk]), headers=EN)
    if may_see:
        assert listing.status_code == 200 and "report:volume" in listing.content.decode()
        assert detail.status_code == 200
        assert client.post(reverse("admin:reports_export_delete", args=[export.pk]),
                           {"post": "yes"}).status_code == 403
        assert Export.objects.filter(pk=export.pk).exists()
    else:
        assert listing.status_code in (302, 403)
        assert detail.status_code in (302, 403)
