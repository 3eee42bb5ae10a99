"""The queue's queries: filters, counts, keyset pages and the indexes they read."""

import base64
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from refunddesk.cases.tracking import new_tracking_number
from refunddesk.console import queueing
from refunddesk.console.queueing import Cursor, Filters, InvalidCursor, Unset
from tests.console import queue_builders as build
from tests.console.queue_builders import START

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = START  # 2026-03-02 10:00 in Shanghai


def ids(filters=None, *, viewer=None, now=NOW, sort="newest"):
    filters = filters or Filters()
    found = []
    cursor = None
    while True:
        page = queueing.page(filters, sort, viewer=viewer, now=now, tz=SHANGHAI,
                             after=cursor, size=1000)
        found += page.ids
        if page.next is None:
            return set(found)
        cursor = page.next


def walk(filters=None, sort="newest", *, size=7, viewer=None, between=None):
    """Follow the "next" links from the first page to the last, through the encoded
    cursor as the URL carries it; `between(page)` runs after each page."""
    filters = filters or Filters()
    pages = []
    cursor = None
    while True:
        page = queueing.page(filters, sort, viewer=viewer, now=NOW, tz=SHANGHAI,
                             after=cursor, size=size)
        pages.append(page.ids)
        if between is not None:
            between(page)
        if page.next is None:
            return pages
        cursor = Cursor.decode(page.next.encode())
        assert len(pages) < 200, "the walk does not end"


def flat(pages):
    return [case_id for page in pages for case_id in page]


# -- filters ------------------------------------------------------------------------------

def test_the_queue_shows_the_cases_still_to_decide_unless_told_otherwise():
    kept = {build.case(state=state).pk for state in queueing.OPEN_STATES}
    for state in ("approved", "paying", "refunded", "rejected", "withdrawn", "closed"):
        build.case(state=state)
    assert ids() == kept


def test_choosing_states_shows_those_states_and_no_states_means_every_state():
    in_review = build.case(state="in_review")
    refunded = build.case(state="refunded")
    build.case(state="submitted")
    assert ids(Filters(states=("refunded", "in_review"))) == {in_review.pk, refunded.pk}
    assert len(ids(Filters(states=()))) == 3


def test_the_channel_filter_keeps_only_that_channel():
    email = build.case(channel="email")
    build.case(channel="portal")
    assert ids(Filters(channel="email")) == {email.pk}


def test_overdue_means_due_before_now_and_only_while_the_clock_runs():
    overdue = build.case(sla_due_at=NOW - timedelta(minutes=1))
    build.case(sla_due_at=NOW + timedelta(minutes=1))
    build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=NOW)
    # A decided case keeps no due time; even a stale one is not the desk's to meet.
    build.case(state="approved", sla_due_at=NOW - timedelta(days=3))
    assert ids(Filters(states=(), sla="overdue")) == {overdue.pk}


def test_due_today_ends_at_midnight_in_the_viewers_time_zone():
    # NOW is 10:00 in Shanghai: today ends 14 hours later, at 16:00 UTC.
    later_today = build.case(sla_due_at=NOW + timedelta(hours=13, minutes=59))
    build.case(sla_due_at=NOW + timedelta(hours=14))  # tomorrow 00:00 in Shanghai
    build.case(sla_due_at=NOW - timedelta(minutes=5))  # overdue, not "due today"
    assert ids(Filters(sla="due_today")) == {later_today.pk}
    # In London the same moment is 02:00 and the day has 22 hours left.
    london = queueing.page(Filters(sla="due_today"), viewer=None, now=NOW,
                           tz=ZoneInfo("Europe/London"))
    assert len(london.ids) == 2


def test_paused_means_waiting_for_the_customer_with_the_clock_stopped():
    paused = build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=NOW)
    build.case(sla_due_at=NOW)
    build.case(state="withdrawn", sla_due_at=None, sla_paused_at=NOW)
    assert ids(Filters(states=(), sla="paused")) == {paused.pk}


def test_the_amount_range_is_in_minor_units_of_the_chosen_currency():
    low = build.case(assessed_total_minor=10000)
    middle = build.case(assessed_total_minor=50000)
    high = build.case(assessed_total_minor=90000)
    dollars = build.case(build.order(currency="USD"), assessed_total_minor=50000,
                         currency="USD")
    assert ids(Filters(currency="CNY", amount_min=10000, amount_max=50000)) == {
        low.pk, middle.pk}
    assert ids(Filters(currency="CNY", amount_min=50001)) == {high.pk}
    assert ids(Filters(currency="USD")) == {dollars.pk}


def test_the_product_filter_finds_cases_with_a_line_of_that_product():
    vpn = build.case(build.order(products=("vpn",)))
    mixed = build.case(build.order(products=("cvm", "vpn")))
    build.case(build.order(products=("cvm",)))
    assert ids(Filters(product="vpn")) == {vpn.pk, mixed.pk}


def test_the_rule_filter_finds_cases_with_a_line_decided_by_that_rule():
    five_day = build.case(rules=("five_day_no_reason",))
    build.case(rules=("prorated",))
    both = build.case(build.order(products=("cvm", "vpn")),
                      rules=("prorated", "five_day_no_reason"))
    assert ids(Filters(rule="five_day_no_reason")) == {five_day.pk, both.pk}


def test_the_assignee_filter_knows_me_nobody_and_a_named_colleague(make_staff):
    me, colleague = make_staff("agent", "me"), make_staff("agent", "colleague")
    mine = build.case(assignee=me)
    theirs = build.case(assignee=colleague)
    nobodys = build.case()
    assert ids(Filters(assignee="me"), viewer=me) == {mine.pk}
    assert ids(Filters(assignee="unassigned"), viewer=me) == {nobodys.pk}
    assert ids(Filters(assignee=colleague.pk), viewer=me) == {theirs.pk}


def test_escalated_and_waiting_for_a_second_approval_are_flags():
    escalated = build.case(escalated_at=NOW)
    waiting = build.case(proposal={"total": 100, "amounts": {"1": 100}})
    appeal = build.case(state="appealed", proposal={"total": 100, "amounts": {"1": 100}})
    build.case()
    assert ids(Filters(is_escalated=True)) == {escalated.pk}
    assert ids(Filters(is_awaiting_second_approval=True)) == {waiting.pk, appeal.pk}


def test_an_approval_waits_for_confirmation_only_where_it_can_be_confirmed():
    # A decided case's leftover proposal is nobody's to confirm (approve is not allowed).
    build.case(state="closed", proposal={"total": 100, "amounts": {"1": 100}})
    assert ids(Filters(states=(), is_awaiting_second_approval=True)) == set()


def test_search_finds_a_tracking_number_however_it_was_typed():
    wanted = build.case()
    build.case()
    typed = wanted.tracking_number.replace("-", " ").lower()
    assert ids(Filters(search=typed)) == {wanted.pk}


def test_search_finds_an_order_id_and_a_customer_email():
    alice = build.account(email="alice@example.com")
    by_alice = build.case(build.order(alice, external_id="TC-ALICE-9"))
    build.case()
    assert ids(Filters(search="TC-ALICE-9")) == {by_alice.pk}
    assert ids(Filters(search="tc-alice-9")) == {by_alice.pk}
    assert ids(Filters(search=" Alice@Example.com ")) == {by_alice.pk}
    assert ids(Filters(search="nobody@example.com")) == set()


def test_filters_combine():
    wanted = build.case(channel="email", escalated_at=NOW, sla_due_at=NOW - timedelta(hours=1))
    build.case(channel="email", sla_due_at=NOW - timedelta(hours=1))
    build.case(channel="portal", escalated_at=NOW, sla_due_at=NOW - timedelta(hours=1))
    assert ids(Filters(channel="email", is_escalated=True, sla="overdue")) == {wanted.pk}


# -- counts -------------------------------------------------------------------------------

def test_counts_per_state_read_each_state_once_and_every_state_is_there(
        django_assert_num_queries):
    build.many(3, state="in_review")
    build.many(2, state="refunded")
    # One capped count per state, along its index (a GROUP BY over a million cases took
    # 220 ms on PostgreSQL).
    with django_assert_num_queries(len(queueing.ALL_STATES)):
        counts = queueing.state_counts(Filters(), viewer=None, now=NOW, tz=SHANGHAI)
    assert counts["in_review"] == 3
    assert counts["refunded"] == 2
    assert counts["appealed"] == 0
    assert set(counts) == set(queueing.ALL_STATES)


def test_counts_follow_every_filter_but_the_state():
    build.case(state="in_review", channel="email")
    build.case(state="refunded", channel="email")
    build.case(state="in_review", channel="portal")
    counts = queueing.state_counts(Filters(states=("in_review",), channel="email"),
                                   viewer=None, now=NOW, tz=SHANGHAI)
    assert counts["in_review"] == 1
    assert counts["refunded"] == 1


def test_my_open_count_counts_my_cases_still_to_decide(make_staff):
    me = make_staff("agent", "me")
    build.case(assignee=me)
    build.case(assignee=me, state="awaiting_customer")
    build.case(assignee=me, state="refunded")
    build.case()
    assert queueing.my_open_count(me) == 2


# -- keyset pages -------------------------------------------------------------------------

def expected_order(cases, sort):
    if sort == "newest":
        return [c.pk for c in sorted(cases, key=lambda c: (c.submitted_at, c.pk),
                                     reverse=True)]
    if sort == "oldest":
        return [c.pk for c in sorted(cases, key=lambda c: (c.submitted_at, c.pk))]
    if sort == "due":
        return [c.pk for c in sorted(cases, key=lambda c: (
            c.sla_due_at is None, c.sla_due_at or NOW, c.pk))]
    if sort == "amount_high":
        return [c.pk for c in sorted(cases, key=lambda c: (c.assessed_total_minor, c.pk),
                                     reverse=True)]
    return [c.pk for c in sorted(cases, key=lambda c: (c.assessed_total_minor, c.pk))]


def mixed_cases():
    """Forty cases across open states, some without a due time, with tied submission
    times and tied amounts."""
    cases = build.many(18, state="in_review")
    cases += build.many(12, state="submitted", step=timedelta(minutes=5))
    cases += build.many(6, state="awaiting_customer", sla_due_at=None, sla_paused_at=NOW,
                        assessed_total_minor=30000)
    cases += build.many(4, state="appealed", assessed_total_minor=30000)
    return cases


@pytest.mark.parametrize("sort", sorted(queueing.SORTS))
def test_walking_every_page_shows_each_case_once_in_order(sort):
    cases = mixed_cases()
    pages = walk(sort=sort)
    assert flat(pages) == expected_order(cases, sort)
    assert all(len(page) == 7 for page in pages[:-1])


@pytest.mark.parametrize("sort", sorted(queueing.SORTS))
def test_walking_back_with_previous_gives_the_same_pages(sort):
    mixed_cases()
    forward = walk(sort=sort)
    last = queueing.page(Filters(), sort, viewer=None, now=NOW, tz=SHANGHAI, size=7)
    for _ in range(len(forward) - 1):
        last = queueing.page(Filters(), sort, viewer=None, now=NOW, tz=SHANGHAI, size=7,
                             after=last.next)
    backward = [last.ids]
    while last.previous is not None:
        last = queueing.page(Filters(), sort, viewer=None, now=NOW, tz=SHANGHAI, size=7,
                             before=Cursor.decode(last.previous.encode()))
        backward.append(last.ids)
    assert backward[::-1] == forward
    assert last.is_first


def test_a_case_added_while_paging_shows_nowhere_twice_and_none_is_skipped():
    cases = build.many(30)
    shared = cases[0].order
    added = []

    def add_some(page):
        # Newer than everything, older than everything, and inside the pages to come.
        added.append(build.case(shared, submitted_at=START + timedelta(days=30)))
        added.append(build.case(shared, submitted_at=START - timedelta(days=30)))
        added.append(build.case(shared, submitted_at=START + timedelta(minutes=7 * 25)))

    seen = flat(walk(between=add_some))
    assert len(seen) == len(set(seen))
    assert {c.pk for c in cases} <= set(seen)
    # Newer than the pages already read: they wait for the next visit of the first page.
    assert not {c.pk for c in added[0::3]} & set(seen)
    # Older than everything: met at the end (but for those added after the last page).
    assert {c.pk for c in added[1::3][:-1]} <= set(seen)


def test_cases_added_while_paging_by_due_time_are_never_shown_twice():
    cases = build.many(25)
    shared = cases[0].order

    def add_some(page):
        build.case(shared, sla_due_at=START + timedelta(hours=1))
        build.case(shared, sla_due_at=None, state="awaiting_customer")
        build.case(shared, sla_due_at=START + timedelta(days=30))

    seen = flat(walk(sort="due", between=add_some))
    assert len(seen) == len(set(seen))
    assert {c.pk for c in cases} <= set(seen)


def test_a_short_previous_page_becomes_the_full_first_page():
    cases = build.many(20)
    order = expected_order(cases, "newest")
    third = queueing.page(Filters(), "newest", viewer=None, now=NOW, tz=SHANGHAI, size=7,
                          after=Cursor("newest", *key_of(cases, order[2])))
    # Going back from a page that starts at the 4th case: only 3 come before it.
    back = queueing.page(Filters(), "newest", viewer=None, now=NOW, tz=SHANGHAI, size=7,
                         before=third.previous)
    assert back.ids == order[:7]
    assert back.is_first and back.previous is None


def key_of(cases, case_id):
    found = next(c for c in cases if c.pk == case_id)
    return found.submitted_at, found.pk


def test_no_matching_state_reads_nothing(django_assert_num_queries):
    build.case(state="refunded")
    with django_assert_num_queries(0):
        keys = queueing.page_keys(Filters(states=("refunded",), sla="overdue"), "newest",
                                  viewer=None, now=NOW, tz=SHANGHAI)
    assert keys == []


# -- cursors ------------------------------------------------------------------------------

def test_a_cursor_survives_the_url_exactly():
    moment = NOW + timedelta(microseconds=123457)
    for cursor in (Cursor("newest", moment, 42), Cursor("due", Unset(moment), 7),
                   Cursor("amount_high", 123456, 9)):
        text = cursor.encode()
        assert text.isascii() and "=" not in text and "/" not in text
        assert Cursor.decode(text) == cursor


@pytest.mark.parametrize("text", [
    "", "not base64!", "e30", Cursor("newest", NOW, 1).encode()[:-3],
    # Well-formed JSON of the wrong shapes:
    "WyJuZXdlc3QiLDEsMV0",  # ["newest",1,1]: a number where a time belongs
    "WyJzaWRld2F5cyIsMSwxXQ",  # ["sideways",1,1]: no such sort
    "WyJhbW91bnRfaGlnaCIsMSwiMSJd",  # ["amount_high",1,"1"]: the id is text
    base64.urlsafe_b64encode(b"[" * 5000).decode(),  # too long, and nested too deep
    base64.urlsafe_b64encode(b"[" * 140).decode(),  # nested, short enough to be read
])
def test_a_broken_cursor_is_refused_with_invalid_cursor(text):
    with pytest.raises(InvalidCursor):
        Cursor.decode(text)


# -- the indexes --------------------------------------------------------------------------

def plans(filters, sort, cursor=None, backwards=False):
    querysets = queueing.keyset_querysets(filters, sort, viewer=None, now=NOW, tz=SHANGHAI,
                                          cursor=cursor, backwards=backwards)
    return [queryset.explain() for per_state in querysets for queryset in per_state]


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite",
                                 reason="reads SQLite's query plans")


@sqlite_only
@pytest.mark.parametrize("cursor", [None, Cursor("newest", NOW, 10)])
def test_the_default_view_reads_the_state_and_submission_index_without_sorting(cursor):
    for plan in plans(Filters(), "newest", cursor):
        assert "case_queue_state_submitted" in plan
        assert "TEMP B-TREE" not in plan


@sqlite_only
@pytest.mark.parametrize("cursor, backwards", [
    (None, False), (Cursor("due", NOW, 10), False), (Cursor("due", Unset(NOW), 10), False),
    (Cursor("due", NOW, 10), True), (Cursor("due", Unset(NOW), 10), True)])
def test_sorting_by_due_time_reads_the_state_and_due_index_without_sorting(cursor,
                                                                            backwards):
    # Cases with a due time along (state, due, id); those without, oldest first, along
    # the partial index of cases without one.
    for plan in plans(Filters(states=("in_review", "submitted")), "due", cursor, backwards):
        assert "case_queue_state_due" in plan or "case_queue_state_unclocked" in plan
        assert "TEMP B-TREE" not in plan


@sqlite_only
def test_sorting_by_amount_reads_the_state_and_amount_index_without_sorting():
    for plan in plans(Filters(), "amount_high", Cursor("amount_high", 5000, 3)):
        assert "case_queue_state_amount" in plan
        assert "TEMP B-TREE" not in plan


@sqlite_only
def test_a_search_reads_the_tracking_number_index():
    [plan] = plans(Filters(search=new_tracking_number()), "newest")
    assert "tracking_number" in plan


# -- the default order: SLA due first, then oldest ----------------------------------------

def test_the_default_order_is_overdue_first_then_by_due_time_then_the_oldest_without_a_clock():
    # given cases due at various times, and cases without a running clock
    later = build.case(sla_due_at=NOW + timedelta(days=2), submitted_at=NOW - timedelta(days=1))
    overdue = build.case(sla_due_at=NOW - timedelta(hours=5), submitted_at=NOW)
    soon = build.case(sla_due_at=NOW + timedelta(hours=1), submitted_at=NOW)
    waiting_new = build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=NOW,
                             submitted_at=NOW - timedelta(days=1))
    waiting_old = build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=NOW,
                             submitted_at=NOW - timedelta(days=9))
    # when the queue is read without a sort
    page = queueing.page(Filters(), viewer=None, now=NOW, tz=SHANGHAI)
    # then the overdue case is on top and the cases without a clock come last, oldest first
    assert queueing.DEFAULT_SORT == "due"
    assert page.ids == [overdue.pk, soon.pk, later.pk, waiting_old.pk, waiting_new.pk]


def test_paging_by_due_time_crosses_from_the_clocked_cases_to_the_unclocked_ones_and_back():
    # given more cases without a clock than a page holds, submitted in a shuffled order
    clocked = build.many(4)
    unclocked = [build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=NOW,
                            submitted_at=START - timedelta(hours=(n * 7) % 11))
                 for n in range(11)]
    expected = [c.pk for c in sorted(clocked, key=lambda c: (c.sla_due_at, c.pk))]
    expected += [c.pk for c in sorted(unclocked, key=lambda c: (c.submitted_at, c.pk))]
    # when every page is walked forwards, then backwards from the last
    pages = walk(sort="due", size=3)
    assert flat(pages) == expected
    last = queueing.page(Filters(), "due", viewer=None, now=NOW, tz=SHANGHAI, size=3)
    for _ in range(len(pages) - 1):
        last = queueing.page(Filters(), "due", viewer=None, now=NOW, tz=SHANGHAI, size=3,
                             after=Cursor.decode(last.next.encode()))
    backward = [last.ids]
    while last.previous is not None:
        last = queueing.page(Filters(), "due", viewer=None, now=NOW, tz=SHANGHAI, size=3,
                             before=Cursor.decode(last.previous.encode()))
        backward.append(last.ids)
    # then both ways give the same pages
    assert backward[::-1] == pages


@sqlite_only
def test_the_cases_without_a_clock_are_read_along_the_partial_index_oldest_first():
    [_, unclocked] = plans(Filters(states=("awaiting_customer",)), "due")
    assert "case_queue_state_unclocked" in unclocked
    assert "TEMP B-TREE" not in unclocked


# -- search: what people type -------------------------------------------------------------

@pytest.fixture
def customers():
    """周平, Sophia Wilson and Li Lei, with their e-mails, phones and orders."""
    made = {}
    for key, name, email, phone, order_id in (
            ("zhou", "周平", "zhou.ping38@example.com", "+86 138 0013 8038", "TC-20260301-0001"),
            ("sophia", "Sophia Wilson", "sophia.w@example.org", "+1 202 555 0142",
             "SAAS-7781-XK"),
            ("li", "李雷", "li.lei@example.cn", "", "TC-20260301-0002")):
        account = build.account(email=email, name=name)
        account.phone = phone
        account.save()
        made[key] = build.case(build.order(account, external_id=order_id))
    return made


@pytest.mark.parametrize("typed, who", [
    ("周平", "zhou"), ("周", "zhou"), ("平", "zhou"), ("李雷", "li"),
    ("Sophia", "sophia"), ("sophia", "sophia"), ("WILSON", "sophia"), ("phia Wil", "sophia"),
    ("zhou.ping38", "zhou"), ("ZHOU.PING", "zhou"), ("@example.org", "sophia"),
    ("13800138038", "zhou"), ("138 0013", "zhou"), ("0013-8038", "zhou"),
    ("+86 138", "zhou"), ("555 0142", "sophia"),
    ("TC-20260301-0002", "li"), ("tc-20260301-0002", "li"), ("7781-xk", "sophia"),
])
def test_search_finds_a_customer_by_any_part_of_what_people_type(customers, typed, who):
    assert ids(Filters(search=typed)) == {customers[who].pk}


def test_a_search_of_one_or_two_characters_looks_at_names_only(customers):
    assert ids(Filters(search="TC")) == set()
    assert ids(Filters(search="so")) == {customers["sophia"].pk}
    assert ids(Filters(search="李")) == {customers["li"].pk}


def test_search_finds_every_match_and_nothing_for_a_stranger(customers):
    assert ids(Filters(search="example")) == {case.pk for case in customers.values()}
    assert ids(Filters(search="TC-20260301")) == {customers["zhou"].pk, customers["li"].pk}
    assert ids(Filters(search="王芳")) == set()
    assert ids(Filters(search="nobody@example.com")) == set()
    assert ids(Filters(search="8038")) == {customers["zhou"].pk}


def test_search_finds_a_tracking_number_with_or_without_hyphens(customers):
    wanted = customers["li"]
    for typed in (wanted.tracking_number, wanted.tracking_number.replace("-", ""),
                  wanted.tracking_number.lower()):
        assert ids(Filters(search=typed)) == {wanted.pk}


def test_search_keeps_the_other_filters(customers):
    assert ids(Filters(search="周平", states=("refunded",))) == set()
    assert ids(Filters(search="周平", channel="portal")) == {customers["zhou"].pk}


pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="reads PostgreSQL's query plans")


@pg_only
@pytest.mark.parametrize("typed, index", [
    ("周平安", "billing_account_name_trgm"), ("zhou.ping38", "billing_account_email_trgm"),
    ("13800138", "billing_account_phone_trgm"),
    # Too short for trigrams: the index of one- and two-character pieces of names.
    ("周平", "billing_account_name_grams"), ("平", "billing_account_name_grams")])
def test_on_postgresql_a_search_reads_the_trigram_indexes(customers, typed, index):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: force it
    plan = queueing.accounts_matching(typed).order_by().values("pk").explain()
    assert index in plan


@pg_only
def test_on_postgresql_an_order_id_search_reads_its_trigram_index(customers):
    from refunddesk.billing.models import Order

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Order.objects.filter(external_id__icontains="0301-00").order_by().values("pk").explain()
    assert "billing_order_external_id_trgm" in plan


# -- the total under the pager ------------------------------------------------------------

def test_the_total_counts_the_matching_cases_in_the_states_chosen():
    build.many(3, state="in_review", channel="email")
    build.many(2, state="submitted", channel="email")
    build.many(4, state="refunded", channel="email")
    build.case(state="in_review", channel="portal")
    total = queueing.total_count(Filters(channel="email"), viewer=None, now=NOW, tz=SHANGHAI)
    assert total == queueing.Total(5, is_capped=False)
    assert queueing.total_count(Filters(states=(), channel="email"), viewer=None, now=NOW,
                                tz=SHANGHAI).count == 9


def test_a_search_is_counted_in_one_query(django_assert_num_queries):
    wanted = build.case(state="refunded")
    with django_assert_num_queries(1):
        counts = queueing.state_counts(Filters(search=wanted.tracking_number), viewer=None,
                                       now=NOW, tz=SHANGHAI)
    assert counts["refunded"] == 1 and sum(counts.values()) == 1


def test_counts_per_state_stop_past_the_cap(monkeypatch):
    monkeypatch.setattr(queueing, "COUNT_CAP", 4)
    build.many(6, state="in_review")
    build.many(4, state="submitted")
    counts = queueing.state_counts(Filters(), viewer=None, now=NOW, tz=SHANGHAI)
    assert counts["in_review"] == 5 and queueing.is_capped(counts["in_review"])
    assert counts["submitted"] == 4 and not queueing.is_capped(counts["submitted"])


def test_states_the_filters_rule_out_are_not_counted(django_assert_num_queries):
    # Overdue: only the states whose clock runs can be.
    with django_assert_num_queries(3):
        queueing.state_counts(Filters(sla="overdue"), viewer=None, now=NOW, tz=SHANGHAI)


def test_the_total_stops_counting_past_the_cap(monkeypatch):
    monkeypatch.setattr(queueing, "COUNT_CAP", 4)
    build.many(3, state="in_review")
    build.many(3, state="submitted")
    assert queueing.total_count(Filters(), viewer=None, now=NOW, tz=SHANGHAI) == \
        queueing.Total(4, is_capped=True)
    assert queueing.total_count(Filters(states=("in_review",)), viewer=None, now=NOW,
                                tz=SHANGHAI) == queueing.Total(3)
