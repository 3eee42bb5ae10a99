"""The staff inbox in the console: the unread count in the header, the list of notices
(newest first, paged, unread ones marked), opening a notice (read from then on, and on to
its case or payout), marking all read, and each staff member's e-mail preference. Nobody
sees or opens another's notices."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.inbox.models import EmailMode, Notice, NoticeKind, Preference
from refunddesk.inbox.telling import tell
from tests.payouts.settlement_builders import failed_payout
from tests.portal.builders import customer_for

pytestmark = pytest.mark.django_db

INBOX = reverse("console:inbox")
PREFERENCES = reverse("console:inbox_preferences")
READ_ALL = reverse("console:inbox_read_all")
EN = {"Accept-Language": "en"}


def told(user, case, count=1, kind=NoticeKind.ASSIGNED):
    start = timezone.now() - timedelta(hours=1)
    return [notice for n in range(count) for notice in tell(
        [user], kind, case=case, now=start + timedelta(seconds=n), data={"by": "reviewer"})]


def header_count(page: str) -> str:
    """The text of the header's inbox link."""
    start = page.index('class="console-inbox"')
    return page[page.index(">", start) + 1:page.index("</a>", start)]


def test_an_agent_sees_the_unread_count_in_the_header_and_the_notices_in_the_inbox(
        staff_client, case_in_review):
    client = staff_client("agent")
    told(client.user, case_in_review, 2)

    queue = client.get(reverse("console:queue"), headers=EN).content.decode()
    response = client.get(INBOX, headers=EN)

    assert "Inbox" in header_count(queue) and ">2</span>" in header_count(queue)
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 unread notices" in page
    assert page.count(f"reviewer gave you case {case_in_review.tracking_number}.") == 2
    assert "Mark all read" in page
    assert f'href="{PREFERENCES}"' in page


def test_opening_a_notice_marks_it_read_and_leads_to_its_case(staff_client, case_in_review):
    client = staff_client("agent")
    first, second = told(client.user, case_in_review, 2)

    response = client.get(reverse("console:inbox_open", args=[first.pk]), headers=EN)

    assert response.status_code == 302
    assert response["Location"] == reverse("console:case",
                                           args=[case_in_review.tracking_number])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    page = client.get(INBOX, headers=EN).content.decode()
    assert ">1</span>" in header_count(page) and "1 unread notice:" in page


def test_a_failed_payouts_notice_leads_finance_to_the_payout(staff_client):
    client = staff_client("finance")
    payout = failed_payout()
    notice = Notice.objects.get(recipient=client.user)

    response = client.get(reverse("console:inbox_open", args=[notice.pk]), headers=EN)

    assert response["Location"] == reverse("console:payout", args=[payout.pk])
    assert client.get(response["Location"], headers=EN).status_code == 200


def test_nobody_opens_a_colleagues_notice(staff_client, make_staff, case_in_review):
    colleague = make_staff("agent", "colleague")
    [notice] = told(colleague, case_in_review)
    client = staff_client("reviewer")

    response = client.get(reverse("console:inbox_open", args=[notice.pk]), headers=EN)
    page = client.get(INBOX, headers=EN).content.decode()

    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None
    assert case_in_review.tracking_number not in page


def test_mark_all_read_empties_the_count(staff_client, case_in_review):
    client = staff_client("agent")
    told(client.user, case_in_review, 3)

    assert client.get(READ_ALL, headers=EN).status_code == 405
    response = client.post(READ_ALL, headers=EN, follow=True)

    page = response.content.decode()
    assert "Every notice is marked read." in page
    assert "</span>" not in header_count(page)
    assert "0 unread notices" in page
    assert not Notice.objects.filter(read_at__isnull=True).exists()


def test_an_empty_inbox_says_what_would_arrive_there(staff_client):
    client = staff_client("reviewer")

    page = client.get(INBOX, headers=EN).content.decode()
    unread_only = client.get(INBOX + "?show=unread", headers=EN).content.decode()

    assert "Your inbox is empty." in page
    assert "Mark all read" not in page
    assert "Nothing unread" in unread_only


def test_the_inbox_is_paged_newest_first_and_filters_unread(staff_client, case_in_review):
    client = staff_client("agent")
    notices = told(client.user, case_in_review, 30)
    Notice.objects.filter(pk__in=[notice.pk for notice in notices[:10]]).update(
        read_at=timezone.now())

    first = client.get(INBOX, headers=EN).content.decode()
    second = client.get(INBOX + "?page=2", headers=EN).content.decode()
    unread = client.get(INBOX + "?show=unread", headers=EN).content.decode()

    assert first.count('class="inbox-notice') == 25
    assert second.count('class="inbox-notice') == 5
    assert "Page 1 of 2" in first and 'rel="next"' in first
    # newest first: the last notice written opens the first page
    assert first.index(f"/console/inbox/{notices[-1].pk}/") < first.index(
        f"/console/inbox/{notices[-2].pk}/")
    assert unread.count('class="inbox-notice') == 20
    assert f"/console/inbox/{notices[0].pk}/" not in unread


def test_the_inbox_reads_in_chinese(staff_client, case_in_review):
    client = staff_client("agent")
    told(client.user, case_in_review)

    page = client.get(INBOX, headers={"Accept-Language": "zh-hans"}).content.decode()

    assert "收件箱" in page and "全部标为已读" in page
    assert f"reviewer 将退款申请 {case_in_review.tracking_number} 分配给了您。" in page


def test_a_staff_member_chooses_how_they_are_emailed(staff_client):
    client = staff_client("agent")

    page = client.get(PREFERENCES, headers=EN).content.decode()
    response = client.post(PREFERENCES, {"email": EmailMode.AT_ONCE, "language": "en"},
                           headers=EN, follow=True)

    assert "An hourly digest" in page and "No e-mail" in page
    assert f'href="{PREFERENCES}"' in page  # reachable from the header
    assert "Your e-mail preference is saved." in response.content.decode()
    preference = Preference.objects.get(user=client.user)
    assert (preference.email, preference.language) == (EmailMode.AT_ONCE, "en")


def test_a_bad_preference_is_refused_and_changes_nothing(staff_client):
    client = staff_client("agent")
    Preference.objects.create(user=client.user, email=EmailMode.OFF, language="zh-hans")

    response = client.post(PREFERENCES, {"email": "weekly", "language": "fr"}, headers=EN)

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Preference.objects.get(user=client.user).email == EmailMode.OFF


@pytest.mark.parametrize("url", [INBOX, PREFERENCES, READ_ALL])
def test_a_visitor_is_sent_to_log_in_and_a_customer_is_refused(client, alice_order, url):
    visitor = client.get(url)
    assert visitor.status_code == 302 and "/accounts/login/" in visitor["Location"]

    client.force_login(customer_for(alice_order.account))
    assert client.get(url).status_code == 403
    assert client.post(url, {"email": "off", "language": "en"}).status_code == 403
