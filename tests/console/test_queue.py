"""The queue page at /console/: who sees it, what its rows say, its filters, pages, counts,
the region htmx reloads, and claim and assign from a row."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.console import queueing
from tests.console import queue_builders as build
from tests.portal.builders import PASSWORD

pytestmark = pytest.mark.django_db

QUEUE = "/console/"
ROWS = "/console/queue/rows"


@pytest.fixture(autouse=True)
def in_english(settings):
    settings.LANGUAGE_CODE = "en"


html, shown_tracking_numbers = build.html, build.shown_tracking_numbers


def link(response, rel):
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html(response))
    return unescape(found.group(1)) if found else None


def form_errors(response):
    form = response.context["form"]
    return {name: [str(error) for error in errors] for name, errors in form.errors.items()}


# -- who may look -------------------------------------------------------------------------

def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_customer_is_refused(client, late_customer):
    client.login(username=late_customer.username, password=PASSWORD)
    assert client.get(QUEUE).status_code == 403
    assert client.get(ROWS).status_code == 403


def test_a_customer_cannot_claim_or_assign(client, late_customer, case_in_review):
    client.force_login(late_customer)
    number = case_in_review.tracking_number
    assert client.post(f"/console/queue/{number}/claim").status_code == 403
    assert client.post(f"/console/queue/{number}/assign", {"assignee": ""}).status_code == 403
    case_in_review.refresh_from_db()
    assert case_in_review.assignee is None


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance", "admin"])
def test_every_staff_role_sees_the_queue(staff_client, role, case_in_review):
    response = staff_client(role).get(QUEUE)
    assert response.status_code == 200
    assert shown_tracking_numbers(response) == [case_in_review.tracking_number]


# -- what a row says ----------------------------------------------------------------------

def test_a_row_shows_the_case_at_a_glance(staff_client, case_in_review):
    response = staff_client("agent").get(QUEUE)
    page = html(response)
    number = case_in_review.tracking_number
    assert f'href="{reverse("console:case", args=[number])}"' in page
    # the address may wrap after "@" and before its dots (<wbr>), never inside a word
    assert "late@<wbr>example<wbr>.com" in page
    assert "TC-LATE-1" in page
    assert "Cloud Virtual Machine" in page
    amount = f"CN¥{case_in_review.assessed_total_minor // 100:,}."
    assert amount in page
    assert 'class="state state-in_review"' in page
    assert "Customer portal" in page
    assert "Unassigned" in page
    assert f'datetime="{timezone.localtime(case_in_review.sla_due_at).isoformat()}"' in page


def test_overdue_due_today_and_paused_clocks_are_marked(staff_client):
    now = timezone.now()
    overdue = build.case(sla_due_at=now - timedelta(hours=2))
    paused = build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=now)
    response = staff_client("agent").get(QUEUE)
    rows = dict(zip(shown_tracking_numbers(response),
                    html(response).split('<tr id="case-')[1:], strict=True))
    assert "sla-overdue" in rows[overdue.tracking_number]
    assert "badge-bad" in rows[overdue.tracking_number]
    assert "sla-paused" in rows[paused.tracking_number]


def test_flags_show_escalation_four_eyes_and_appeal(staff_client):
    now = timezone.now()
    build.case(escalated_at=now, proposal={"total": 1, "amounts": {"1": 1}})
    build.case(state="appealed", appealed_at=now)
    page = html(staff_client("agent").get(QUEUE))
    assert "Escalated" in page
    assert "Waiting for second approval" in page
    assert ">Appeal<" in page


def test_an_approved_amount_is_shown_beside_the_assessed_one(staff_client):
    build.case(state="approved", assessed_total_minor=96000, approved_total_minor=45000)
    page = html(staff_client("agent").get(QUEUE + "?state=approved"))
    assert "CN¥960.00" in page
    assert "approved CN¥450.00" in page


def test_an_empty_queue_says_so(staff_client):
    response = staff_client("agent").get(QUEUE)
    assert response.status_code == 200
    assert "No cases match these filters." in html(response)


# -- filters ------------------------------------------------------------------------------

def test_the_bare_address_shows_open_cases_with_their_states_ticked(staff_client):
    open_case = build.case(state="in_review")
    build.case(state="refunded")
    response = staff_client("agent").get(QUEUE)
    assert shown_tracking_numbers(response) == [open_case.tracking_number]
    assert 'value="in_review" id="id_state_1" checked' in html(response)


def test_unticking_every_state_in_the_form_shows_every_state(staff_client):
    build.case(state="in_review")
    build.case(state="refunded")
    response = staff_client("agent").get(QUEUE + "?filtered=1&q=")
    assert len(shown_tracking_numbers(response)) == 2


@pytest.mark.parametrize("query, wanted", [
    ("state=refunded", "refunded"),
    ("channel=email", "email"),
    ("sla=overdue", "overdue"),
    ("sla=paused&state=awaiting_customer", "paused"),
    ("currency=CNY&amount_min=900&amount_max=1000.5", "large"),
    ("product=vpn", "vpn"),
    ("rule=five_day_no_reason", "five_day"),
    ("escalated=on", "escalated"),
    ("second_approval=on", "four_eyes"),
    ("q=TC-WANTED-1", "by_order"),
    ("q=wanted%40example.com", "by_order"),
    ("assignee=unassigned&state=approved", "approved_unassigned"),
])
def test_each_filter_narrows_the_queue_to_what_it_names(staff_client, make_staff, query,
                                                        wanted):
    now = timezone.now()
    colleague = make_staff("agent", "colleague")
    cases = {
        "refunded": build.case(state="refunded", assignee=colleague),
        "email": build.case(channel="email", assignee=colleague),
        "overdue": build.case(sla_due_at=now - timedelta(hours=1), assignee=colleague),
        "paused": build.case(state="awaiting_customer", sla_paused_at=now,
                             assignee=colleague),
        "large": build.case(assessed_total_minor=95000, assignee=colleague),
        "vpn": build.case(build.order(products=("vpn",)), assignee=colleague),
        "five_day": build.case(rules=("five_day_no_reason",), assignee=colleague),
        "escalated": build.case(escalated_at=now, assignee=colleague),
        "four_eyes": build.case(proposal={"total": 1, "amounts": {}}, assignee=colleague),
        "by_order": build.case(build.order(build.account("wanted@example.com"),
                                           external_id="TC-WANTED-1"), assignee=colleague),
        "approved_unassigned": build.case(state="approved"),
        "noise": build.case(state="approved", assignee=colleague),
    }
    response = staff_client("agent").get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    assert shown_tracking_numbers(response) == [cases[wanted].tracking_number]


def test_my_cases_are_the_cases_assigned_to_me(staff_client, make_staff):
    client = staff_client("agent", "me")
    mine = build.case(assignee=client.user)
    build.case(assignee=make_staff("agent", "colleague"))
    build.case()
    response = client.get(QUEUE + "?assignee=me")
    assert shown_tracking_numbers(response) == [mine.tracking_number]


def test_the_form_remembers_what_was_asked(staff_client):
    response = staff_client("agent").get(
        QUEUE + "?filtered=1&state=appealed&channel=email&sla=overdue&sort=due"
        "&currency=USD&amount_min=5&amount_max=10.50&rule=money_back&escalated=on&q=abc")
    page = html(response)
    assert 'value="appealed" id="id_state_8" checked' in page
    assert '<option value="email" selected>' in page
    assert '<option value="overdue" selected>' in page
    assert '<option value="due" selected>' in page
    assert '<option value="USD" selected>' in page
    assert 'name="amount_min" id="id_amount_min" value="5"' in page
    assert 'value="10.50"' in page and 'value="money_back"' in page
    assert 'name="escalated" id="id_escalated" checked' in page
    assert 'name="q" id="id_q" value="abc"' in page
    assert '<details class="queue-more" open>' in page


@pytest.mark.parametrize("query, field, message", [
    ("currency=CNY&amount_min=12.345", "amount_min", "at most 2 after the point"),
    ("currency=CNY&amount_max=-5", "amount_max", "Enter an amount in CNY"),
    ("currency=CNY&amount_max=lots", "amount_max", "Enter an amount in CNY"),
    ("amount_min=10", "currency", "Choose the currency of the amounts."),
    ("currency=CNY&amount_min=20&amount_max=10", "amount_max", "below the lower one"),
    ("currency=XYZ", "currency", "not a currency"),
    ("state=lost", "state", "lost is not a state"),
    ("channel=pigeon", "channel", "Select a valid choice"),
    ("sla=yesterday", "sla", "Select a valid choice"),
    ("sort=random", "sort", "Select a valid choice"),
    ("product=teleporter", "product", "There is no product with this code."),
    ("rule=DROP%20TABLE", "rule", "A rule id is letters"),
    ("assignee=999999", "assignee", "no staff member 999999"),
    ("after=garbage%21", "__all__", "This page link is broken"),
    ("after=WyJuZXdlc3QiLDEsMV0", "__all__", "This page link is broken"),
    ("sort=due&after=" + queueing.Cursor("newest", timezone.now(), 1).encode(), "__all__",
     "belongs to another sort order"),
])
def test_a_bad_filter_value_is_a_form_error_on_an_ordinary_page(staff_client, query, field,
                                                                message):
    build.case()
    response = staff_client("agent").get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    errors = form_errors(response)
    assert any(message in error for error in errors[field]), errors
    assert message.split("%")[0] in unescape(html(response))
    assert shown_tracking_numbers(response) == []
    assert "Correct the filters above to see the queue." in html(response)


def test_the_rows_partial_answers_bad_filters_with_the_same_message(staff_client):
    response = staff_client("agent").get(ROWS + "?currency=CNY&amount_min=1.001")
    assert response.status_code == 200
    assert "Correct the filters above to see the queue." in html(response)
    assert "hx-trigger" not in html(response)


# -- counts -------------------------------------------------------------------------------

def chip_counts(response):
    return {chip["label"]: chip["count"] for chip in response.context["chips"]}


def test_state_chips_count_each_state_under_the_other_filters(staff_client):
    build.many(3, state="in_review", channel="email")
    build.many(2, state="refunded", channel="email")
    build.case(state="in_review", channel="portal")
    client = staff_client("agent")
    counts = chip_counts(client.get(QUEUE + "?channel=email"))
    assert counts["In review"] == 3
    assert counts["Refunded"] == 2
    assert counts["Open"] == 3
    assert counts["All states"] == 5
    assert counts["Waiting for the customer"] == 0


def test_the_my_cases_chip_counts_my_open_cases(staff_client):
    client = staff_client("agent", "me")
    build.many(2, assignee=client.user)
    build.case(assignee=client.user, state="refunded")
    build.case()
    counts = chip_counts(client.get(QUEUE))
    assert counts["My cases"] == 2


def test_a_chip_keeps_the_other_filters_and_drops_the_page(staff_client):
    build.many(60, channel="email")
    client = staff_client("agent")
    second = client.get(link(client.get(QUEUE + "?channel=email"), "next"))
    chip = next(chip for chip in second.context["chips"] if chip["label"] == "Refunded")
    params = parse_qs(chip["query"])
    assert params["channel"] == ["email"] and params["state"] == ["refunded"]
    assert "after" not in params


# -- pages --------------------------------------------------------------------------------

def walk_pages(client, url, between=None):
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(shown_tracking_numbers(response))
        if between is not None:
            between()
        url = link(response, "next")
        assert len(pages) < 50
    return pages


def test_pages_of_fifty_walk_every_case_once_in_order(staff_client):
    cases = build.many(123)
    client = staff_client("agent")
    pages = walk_pages(client, QUEUE + "?sort=newest")
    assert [len(page) for page in pages] == [50, 50, 23]
    expected = [c.tracking_number for c in sorted(cases, key=lambda c: (c.submitted_at, c.pk),
                                                  reverse=True)]
    assert [number for page in pages for number in page] == expected


def test_pages_by_due_time_walk_every_case_once_in_order(staff_client):
    cases = build.many(70) + build.many(35, state="awaiting_customer", sla_due_at=None,
                                        sla_paused_at=build.START)
    client = staff_client("agent")
    pages = walk_pages(client, QUEUE + "?sort=due")
    expected = [c.tracking_number for c in sorted(cases, key=lambda c: (
        c.sla_due_at is None, c.sla_due_at or build.START, c.pk))]
    assert [number for page in pages for number in page] == expected


def test_cases_added_between_pages_neither_repeat_nor_push_any_case_out(staff_client):
    cases = build.many(110)
    shared = cases[0].order
    client = staff_client("agent")

    def new_cases_arrive():
        build.many(7, shared=shared, submitted_at=timezone.now())

    pages = walk_pages(client, QUEUE, between=new_cases_arrive)
    seen = [number for page in pages for number in page]
    assert len(seen) == len(set(seen))
    assert {c.tracking_number for c in cases} == set(seen)


def test_previous_leads_back_to_the_first_page(staff_client):
    build.many(120)
    client = staff_client("agent")
    first = client.get(QUEUE)
    assert link(first, "prev") is None
    second = client.get(link(first, "next"))
    third = client.get(link(second, "next"))
    assert shown_tracking_numbers(client.get(link(third, "prev"))) == \
        shown_tracking_numbers(second)
    back = client.get(link(second, "prev"))
    assert shown_tracking_numbers(back) == shown_tracking_numbers(first)
    assert link(back, "prev") is None


def test_page_links_keep_the_filters_and_carry_an_opaque_cursor(staff_client):
    build.many(60, channel="email")
    response = staff_client("agent").get(QUEUE + "?channel=email&sort=oldest")
    params = parse_qs(urlsplit(link(response, "next")).query)
    assert params["channel"] == ["email"] and params["sort"] == ["oldest"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", params["after"][0])
    assert "offset" not in params and "page" not in params


# -- the region htmx reloads --------------------------------------------------------------

def test_the_rows_partial_is_the_region_alone_with_the_same_filters(staff_client):
    email = build.case(channel="email")
    build.case(channel="portal")
    response = staff_client("agent").get(ROWS + "?channel=email&sort=due")
    page = html(response)
    assert response.status_code == 200
    assert "<html" not in page and "<form class=\"queue-filters" not in page
    assert page.lstrip().startswith('<div id="queue-region"')
    assert shown_tracking_numbers(response) == [email.tracking_number]
    poll = re.search(r'hx-get="([^"]+)" hx-trigger="every 30s', page)
    params = parse_qs(urlsplit(unescape(poll.group(1))).query)
    assert urlsplit(unescape(poll.group(1))).path == ROWS
    assert params["channel"] == ["email"] and params["sort"] == ["due"]


def test_the_full_page_polls_the_rows_partial_for_the_page_it_shows(staff_client):
    build.many(60)
    client = staff_client("agent")
    second = client.get(link(client.get(QUEUE), "next"))
    poll = re.search(r'hx-get="([^"]+)"', html(second)).group(1)
    assert "after=" in unescape(poll)
    again = client.get(unescape(poll))
    assert shown_tracking_numbers(again) == shown_tracking_numbers(second)


def test_a_search_that_matches_only_other_states_offers_to_show_them(staff_client):
    finished = build.case(state="refunded")
    response = staff_client("agent").get(QUEUE + f"?q={finished.tracking_number}")
    page = html(response)
    assert shown_tracking_numbers(response) == []
    assert "Show matching cases in every state" in page
    shown = staff_client("agent", "other").get(unescape(
        re.search(r'href="([^"]+)">Show matching cases in every state', page).group(1)))
    assert shown_tracking_numbers(shown) == [finished.tracking_number]


def test_a_page_of_fifty_rows_takes_as_many_queries_as_a_page_of_five(staff_client,
                                                                       make_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff_client("agent")
    colleague = make_staff("reviewer", "colleague")
    few = build.many(5, assignee=colleague, escalated_at=timezone.now())
    # Newest first: one index range per state. (By due time a state's cases without a
    # clock are a second range, read only when the first runs short of a page.)
    newest = QUEUE + "?sort=newest"
    client.get(newest)  # sessions, permissions and the like settle first
    with CaptureQueriesContext(connection) as five:
        client.get(newest)
    build.many(60, shared=few[0].order, assignee=colleague,
               state="awaiting_customer", sla_paused_at=timezone.now())
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(newest)
    assert len(shown_tracking_numbers(response)) == 50
    assert len(fifty.captured_queries) == len(five.captured_queries)


def test_the_queues_self_refresh_is_marked_as_a_background_poll(staff_client):
    # (the idle-session middleware ignores requests marked as background polls)
    page = staff_client("agent").get("/console/").content.decode()

    assert """hx-headers='{"X-RefundDesk-Poll": "1"}'""" in page
