"""The queue page's views and pager: built-in views and a staff member's own as links above
the queue, the filters used last remembered across logins, "1–50 of 1,234" with its
previous and next links, and the search box finding what people type."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from refunddesk.console import queueing
from refunddesk.console.models import LastQueueFilters, SavedQueueView
from tests.console import queue_builders as build
from tests.portal.builders import PASSWORD

pytestmark = pytest.mark.django_db

QUEUE = "/console/"
SAVE = "/console/queue/views"


@pytest.fixture(autouse=True)
def in_english(settings):
    settings.LANGUAGE_CODE = "en"


def html(response):
    return response.content.decode()


def shown_tracking_numbers(response):
    return re.findall(r'<a class="tracking" href="/console/cases/([A-Z0-9-]+)">', html(response))


def view_links(response):
    """The views above the queue: label → (address, is the one on screen)."""
    nav = re.search(r'<nav class="queue-views".*?</nav>', html(response), re.S).group(0)
    return {unescape(label): (unescape(href), bool(current))
            for href, current, label in re.findall(
                r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav)}


def position(response):
    found = re.search(r'<p class="queue-position" role="status">([^<]+)</p>', html(response))
    return unescape(found.group(1)) if found else None


def link(response, rel):
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html(response))
    return unescape(found.group(1)) if found else None


def delete_url(view):
    return f"/console/queue/views/{view.pk}/delete"


# -- built-in views -----------------------------------------------------------------------

def test_the_built_in_views_are_links_above_the_queue(staff_client):
    links = view_links(staff_client("agent").get(QUEUE))
    assert list(links) == ["My overdue", "Unassigned", "Appeals", "Waiting for the customer",
                           "Waiting for second approval", "Escalated"]


@pytest.mark.parametrize("label, wanted", [
    ("My overdue", "my_overdue"), ("Unassigned", "unassigned"), ("Appeals", "appeal"),
    ("Waiting for the customer", "waiting"), ("Escalated", "escalated")])
def test_each_built_in_view_shows_what_it_names_and_is_marked_as_current(staff_client,
                                                                        make_staff, label,
                                                                        wanted):
    client = staff_client("agent", "me")
    colleague = make_staff("agent", "colleague")
    now = timezone.now()
    cases = {
        "my_overdue": build.case(assignee=client.user, sla_due_at=now - timezone.timedelta(1)),
        "mine_not_due": build.case(assignee=client.user, sla_due_at=now + timezone.timedelta(1)),
        "unassigned": build.case(sla_due_at=now + timezone.timedelta(1)),
        "appeal": build.case(state="appealed", assignee=colleague),
        "waiting": build.case(state="awaiting_customer", sla_due_at=None, sla_paused_at=now,
                              assignee=colleague),
        "escalated": build.case(escalated_at=now, assignee=colleague),
    }
    url, _ = view_links(client.get(QUEUE))[label]
    response = client.get(url)
    assert shown_tracking_numbers(response) == [cases[wanted].tracking_number]
    assert view_links(response)[label] == (url, True)


# -- a staff member's own views -----------------------------------------------------------

def test_an_agent_saves_the_filters_on_screen_as_a_view_and_finds_it_above_the_queue(
        staff_client):
    # given an agent looking at e-mail cases by amount
    client = staff_client("agent", "anna")
    email = build.case(channel="email")
    build.case(channel="portal")
    shown = client.get(QUEUE + "?channel=email&sort=amount_high")
    query = re.search(r'name="query" value="([^"]+)"', html(shown)).group(1)
    # when they save them as "E-mail, largest first"
    response = client.post(SAVE, {"name": "  E-mail,   largest first ", "query": unescape(query)},
                           follow=True)
    # then the view is theirs, its link shows those filters and is the current one
    view = SavedQueueView.objects.get()
    assert (view.owner, view.name) == (client.user, "E-mail, largest first")
    assert "Saved the view “E-mail, largest first”." in html(response)
    url, is_current = view_links(response)["E-mail, largest first"]
    assert is_current
    params = parse_qs(urlsplit(url).query)
    assert params["channel"] == ["email"] and params["sort"] == ["amount_high"]
    assert shown_tracking_numbers(client.get(url)) == [email.tracking_number]


def test_a_view_is_shown_only_to_its_owner(staff_client, make_staff):
    SavedQueueView.objects.create(owner=make_staff("agent", "other"), name="Other's view",
                                  query="channel=email&filtered=1")
    assert "Other's view" not in view_links(staff_client("agent").get(QUEUE))


@pytest.mark.parametrize("name, message", [
    ("", "Give the view a name."),
    ("x" * 61, "at most 60 characters"),
    ("Mine", "You already have a view named “Mine”."),
])
def test_a_view_without_a_good_name_is_not_saved_and_the_agent_is_told_why(staff_client,
                                                                          name, message):
    client = staff_client("agent")
    SavedQueueView.objects.create(owner=client.user, name="Mine", query="filtered=1")
    response = client.post(SAVE, {"name": name, "query": "channel=email&filtered=1"},
                           follow=True)
    assert message in unescape(html(response))
    assert SavedQueueView.objects.count() == 1


def test_filters_with_errors_are_not_saved_as_a_view(staff_client):
    client = staff_client("agent")
    response = client.post(SAVE, {"name": "Broken", "query": "currency=XYZ&filtered=1"},
                           follow=True)
    assert "correct them before saving them as a view" in html(response)
    assert not SavedQueueView.objects.exists()


def test_an_agent_deletes_their_own_view(staff_client):
    client = staff_client("agent")
    view = SavedQueueView.objects.create(owner=client.user, name="Mine", query="filtered=1")
    response = client.post(delete_url(view), {"next": QUEUE + "?channel=email"})
    assert response.status_code == 302
    assert response["Location"] == QUEUE + "?channel=email"
    assert not SavedQueueView.objects.exists()


def test_nobody_deletes_another_staff_members_view(staff_client, make_staff):
    view = SavedQueueView.objects.create(owner=make_staff("agent", "owner"), name="Theirs",
                                         query="filtered=1")
    response = staff_client("admin").post(delete_url(view))
    assert response.status_code == 404
    assert SavedQueueView.objects.filter(pk=view.pk).exists()


def test_a_customer_can_neither_save_nor_delete_views(client, late_customer, make_staff):
    view = SavedQueueView.objects.create(owner=make_staff("agent", "owner"), name="Theirs",
                                         query="filtered=1")
    client.login(username=late_customer.username, password=PASSWORD)
    assert client.post(SAVE, {"name": "Mine", "query": "filtered=1"}).status_code == 403
    assert client.post(delete_url(view)).status_code == 403
    assert SavedQueueView.objects.count() == 1


def test_a_visitor_is_sent_to_log_in_before_saving_a_view(client):
    response = client.post(SAVE, {"name": "Mine", "query": "filtered=1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not SavedQueueView.objects.exists()


# -- the filters used last ----------------------------------------------------------------

def test_the_bare_queue_address_shows_the_filters_used_last_even_after_logging_in_again(
        staff_client):
    # given an agent who looked at the e-mail cases, then logged out
    client = staff_client("agent")
    email = build.case(channel="email")
    build.case(channel="portal")
    client.get(QUEUE + "?channel=email&sort=oldest&after=&start=")
    client.logout()
    # when they log in again, on another browser, and open the queue
    again = Client()
    again.force_login(client.user)
    response = again.get(QUEUE)
    # then they are back at those filters (without any page position)
    assert response.status_code == 302
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["channel"] == ["email"] and params["sort"] == ["oldest"]
    assert "after" not in params and "start" not in params
    assert shown_tracking_numbers(again.get(response["Location"])) == [email.tracking_number]


def test_reset_forgets_the_filters_used_last(staff_client):
    client = staff_client("agent")
    build.case(channel="email")
    portal = build.case(channel="portal")
    client.get(QUEUE + "?channel=email")
    response = client.get(QUEUE + "?reset=1")
    assert response["Location"] == QUEUE
    assert not LastQueueFilters.objects.exists()
    assert len(shown_tracking_numbers(client.get(QUEUE))) == 2
    assert portal.tracking_number in shown_tracking_numbers(client.get(QUEUE))


def test_the_self_refresh_does_not_change_the_filters_remembered(staff_client):
    client = staff_client("agent")
    client.get(QUEUE + "?channel=email")
    client.get("/console/queue/rows?channel=portal")
    assert "channel=email" in LastQueueFilters.objects.get().query


def test_bad_filters_are_not_remembered(staff_client):
    client = staff_client("agent")
    client.get(QUEUE + "?channel=email")
    client.get(QUEUE + "?currency=XYZ")
    assert "channel=email" in LastQueueFilters.objects.get().query


# -- the pager ----------------------------------------------------------------------------

def test_the_pager_says_which_cases_of_how_many_are_shown(staff_client):
    build.many(123)
    client = staff_client("agent")
    first = client.get(QUEUE)
    assert position(first) == "1–50 of 123"
    second = client.get(link(first, "next"))
    assert position(second) == "51–100 of 123"
    third = client.get(link(second, "next"))
    assert position(third) == "101–123 of 123"
    assert link(third, "next") is None
    back = client.get(link(third, "prev"))
    assert position(back) == "51–100 of 123"
    assert shown_tracking_numbers(back) == shown_tracking_numbers(second)
    assert position(client.get(link(back, "prev"))) == "1–50 of 123"


def test_the_pager_says_more_than_the_cap_when_counting_stopped(staff_client, monkeypatch):
    monkeypatch.setattr(queueing, "COUNT_CAP", 60)
    build.many(70)
    assert position(staff_client("agent").get(QUEUE)) == "1–50 of more than 60"


def test_a_chip_past_the_cap_says_more_than_the_cap(staff_client, monkeypatch):
    monkeypatch.setattr(queueing, "COUNT_CAP", 60)
    build.many(70)
    build.many(3, state="refunded")
    chips = {chip["label"]: chip["count_label"]
             for chip in staff_client("agent").get(QUEUE).context["chips"]}
    assert chips["In review"] == "60+" and chips["Open"] == "60+"
    assert chips["All states"] == "60+" and chips["Refunded"] == "3"


def test_a_doctored_start_only_restarts_the_numbering(staff_client):
    build.many(60)
    client = staff_client("agent")
    url = link(client.get(QUEUE), "next")
    for start in ("abc", "-5", "²", "9" * 5000):
        doctored = re.sub(r"start=\d+", f"start={start}", url)
        response = client.get(doctored)
        assert response.status_code == 200
        assert position(response) == "1–10 of 60"


# -- the search box -----------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["周平", "zhou.ping38", "138 0013", "ping"])
def test_the_search_box_finds_a_customer_by_what_people_type(staff_client, typed):
    zhou = build.account(email="zhou.ping38@example.com", name="周平")
    zhou.phone = "+86 138 0013 8038"
    zhou.save()
    wanted = build.case(build.order(zhou))
    build.case(build.order(build.account(email="li.lei@example.cn", name="李雷")))
    response = staff_client("agent").get(QUEUE, {"q": typed})
    assert shown_tracking_numbers(response) == [wanted.tracking_number]
    assert position(response) == "1–1 of 1"


def test_the_search_box_says_what_it_finds(staff_client):
    page = html(staff_client("agent").get(QUEUE))
    assert "Tracking number, order id, or part of a customer&#x27;s name, e-mail or phone" \
        in page
