"""The reports page and its exports: who sees what, what the page shows, bad filters.

The figures themselves are checked in tests/reports/test_figures.py; here, the page around
them: every role's access, an agent's own figures, the filters as form errors, the chart
data and tables on the page, and each export's file."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from refunddesk.reports.models import Export
from tests.console.case_builders import EN
from tests.portal.builders import customer_for
from tests.reports.desk import build

pytestmark = pytest.mark.django_db

RANGE = {"preset": "custom", "start": "2026-04-01", "end": "2026-04-10",
         "tz": "Asia/Shanghai"}


def reports_url(**query: str) -> str:
    from urllib.parse import urlencode

    return f"{reverse('console:reports')}?{urlencode(query)}"


def export_url(table: str, format: str, **query: str) -> str:
    from urllib.parse import urlencode

    return f"{reverse('console:report_export', args=[table, format])}?{urlencode(query)}"


@pytest.mark.parametrize("role", ["reviewer", "finance", "admin"])
def test_reviewers_finance_and_admins_see_every_report_of_the_whole_desk(staff_client, role):
    build()
    response = staff_client(role).get(reports_url(**RANGE), headers=EN)
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("volume", "backlog", "outcomes", "approvals", "reasons", "rejection_reasons",
                 "service_times", "overdue", "refunded", "refunded_by_route",
                 "approved_by_product", "approved_by_rule", "failed_payouts", "agents",
                 "appeals"):
        assert f'id="table-{name}"' in page, name
    assert "These are your own figures" not in page
    # Each chart's data is on the page for reports.js, never an inline script.
    assert re.search(r'<script id="chart-volume" type="application/json">', page)
    assert "desk-reviewer" in page and "desk-agent" in page


def test_an_agent_sees_only_their_own_figures_whatever_the_address_says(staff_client):
    desk = build()
    client = staff_client("agent")
    response = client.get(reports_url(**RANGE, agent=str(desk.reviewer.pk)), headers=EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "These are your own figures" in page
    assert "desk-reviewer" not in page


def test_the_bare_address_shows_this_month(staff_client):
    response = staff_client("reviewer").get(reverse("console:reports"), headers=EN)
    assert response.status_code == 200
    assert "Nothing in this range." in response.content.decode()


@pytest.mark.parametrize("query, message", [
    ({"preset": "custom", "start": "2026-04-10", "end": "2026-04-01"},
     "The range ends before it begins."),
    ({"preset": "custom", "start": "2026-04-01"}, "A custom range needs both"),
    ({"preset": "custom", "start": "yesterday", "end": "2026-04-01"}, "Enter a day like"),
    ({"preset": "custom", "start": "2020-01-01", "end": "2026-04-01"}, "A range is at most"),
    ({"tz": "Mars/Olympus"}, "is not a time zone"),
    ({"version": "DROP TABLE"}, "A policy version is the policy"),
    ({"product": "no-such"}, "There is no product with this code."),
    ({"channel": "pigeon"}, "Select a valid choice"),
])
def test_bad_filters_are_form_errors_and_show_no_figures(staff_client, query, message):
    response = staff_client("reviewer").get(reports_url(**query), headers=EN)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'id="table-volume"' not in page


def test_strangers_and_customers_are_refused_the_reports_and_exports(client):
    desk = build()
    for url in (reports_url(), export_url("volume", "csv"), reverse("console:exports")):
        assert client.get(url).status_code == 302  # to log in
    client.force_login(customer_for(desk.cases["A"].account))
    for url in (reports_url(), export_url("volume", "csv"), reverse("console:exports")):
        assert client.get(url).status_code == 403


def test_a_report_table_exports_as_csv_with_a_byte_order_mark_and_is_audited(staff_client):
    build()
    client = staff_client("finance")
    response = client.get(export_url("refunded_by_route", "csv", **RANGE), headers=EN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0] == ["Currency", "Route", "Payouts", "Amount"]
    assert ["CNY", "To the account balance", "1", "150.00"] in rows
    export = Export.objects.get()
    assert (export.subject, export.format, export.requested_by) == (
        "report:refunded_by_route", "csv", client.user)
    assert export.params["from"] == "2026-04-01" and export.rows_total == 2


def test_an_unknown_table_or_format_is_not_found(staff_client):
    client = staff_client("reviewer")
    assert client.get(export_url("salaries", "csv")).status_code == 404
    assert client.get(export_url("volume", "pdf")).status_code == 404
    assert not Export.objects.exists()


def test_an_agents_export_holds_only_their_own_figures(staff_client):
    desk = build()
    client = staff_client("agent")
    response = client.get(export_url("agents", "csv", **RANGE, agent=str(desk.reviewer.pk)),
                          headers=EN)
    assert response.status_code == 200
    assert "desk-reviewer" not in response.content.decode()


def test_the_reports_link_is_in_the_navigation_of_those_who_see_reports(staff_client,
                                                                        make_staff):
    page = staff_client("finance").get(reverse("console:queue"), headers=EN).content.decode()
    assert reverse("console:reports") in page
