"""The console's governance pages: comparing two versions, proposing a draft, and a second
admin approving or declining it, in both languages; nobody approves their own proposal
there either, and staff other than admins reach none of it."""

import re
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.policies import actions, publishing
from refunddesk.policies.models import PolicyVersion
from tests.policies.conftest import tencent


def page_of(name, version=2, policy_id="tencent-cloud"):
    return reverse(f"console:{name}", args=[policy_id, version])


def text(response):
    return response.content.decode()


@pytest.fixture
def as_admin(staff_client):
    return staff_client("admin")


@pytest.fixture
def longer_window(as_admin):
    """tencent-cloud@2 whose five-day window is seven days, written by the logged-in admin."""
    return actions.save_draft("tencent-cloud",
                              tencent(2).replace('length = "5d"', 'length = "7d"'),
                              actor=as_admin.user)


# -- compare ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "before", "after", "heading"), [
    ("en", "Window: 5 days from the service start, its last moment included.",
     "Window: 7 days from the service start, its last moment included.",
     "The rules in words"),
    ("zh-hans", "期限：自服务开始起 5 天，含终点。", "期限：自服务开始起 7 天，含终点。", None),
])
def test_a_draft_is_compared_with_the_version_in_force_in_words_and_lines(
        as_admin, longer_window, language, before, after, heading):
    # when an admin opens the draft's compare page in the language
    response = as_admin.get(page_of("policy_compare"), HTTP_ACCEPT_LANGUAGE=language)
    page = text(response)
    # then it compares with the preset in force, the changed rule with both sentences
    assert response.status_code == 200
    assert response.context["other"].ref == "tencent-cloud@1"
    assert f"<del>{before}</del>" in page and f"<ins>{after}</ins>" in page
    if heading:
        assert heading in page
    else:
        assert re.search(r"[\u4e00-\u9fff]", page)
    # and the files line by line
    assert '<span class="diff-removed">-window = { start = &quot;service_start&quot;, ' \
           'length = &quot;5d&quot;' in page
    assert '<span class="diff-added">+window = { start = &quot;service_start&quot;, ' \
           'length = &quot;7d&quot;' in page


def test_another_version_is_chosen_from_the_list(as_admin, longer_window):
    third = actions.save_draft("tencent-cloud", tencent(3), actor=as_admin.user)
    response = as_admin.get(page_of("policy_compare", 3), {"with": "2"},
                            HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["other"].ref == "tencent-cloud@2"
    comparison = response.context["comparison"]
    assert (comparison.before.ref, comparison.after.ref) == ("tencent-cloud@2", third.ref)
    assert '<option value="2" selected>' in text(response)


def test_the_version_in_force_is_compared_with_the_one_before(as_admin, longer_window,
                                                              make_staff):
    publishing.propose_and_approve(longer_window, proposed_by=as_admin.user,
                                   approved_by=make_staff("admin", "second-admin"))
    response = as_admin.get(page_of("policy_compare"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["other"].ref == "tencent-cloud@1"


def test_a_policy_with_one_version_has_nothing_to_compare(as_admin):
    response = as_admin.get(page_of("policy_compare", 1), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "there is nothing to compare it with yet" in text(response)


def test_the_version_page_links_to_the_comparison(as_admin, longer_window):
    page = text(as_admin.get(page_of("policy_version"), HTTP_ACCEPT_LANGUAGE="en"))
    assert page_of("policy_compare") in page


# -- propose, approve, decline, withdraw -----------------------------------------------------

def test_proposing_shows_what_changes_and_asks_when(as_admin, longer_window):
    response = as_admin.get(page_of("policy_propose"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = text(response)
    assert response.status_code == 200
    assert "<ins>期限：自服务开始起 7 天，含终点。</ins>" in page
    assert 'name="effective_at"' in page and "Asia/Shanghai" in page


def test_a_time_to_take_effect_is_read_on_the_policys_clock(as_admin, longer_window,
                                                            settings):
    # given a desk on UTC, and the policy on Asia/Shanghai (UTC+8)
    settings.TIME_ZONE = "UTC"
    # when the admin proposes it for 09:00 on a day ahead
    day = (timezone.now() + timedelta(days=3)).date()
    response = as_admin.post(page_of("policy_propose"),
                             {"effective_at": f"{day}T09:00", "note": "from Monday"})
    # then it is proposed for 01:00 UTC that day
    assert response.status_code == 302
    row = PolicyVersion.objects.get()
    assert row.state == "proposed"
    assert row.effective_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") == \
        f"{day} 01:00"


def test_a_proposal_for_a_time_passed_is_shown_again_with_the_problem(as_admin,
                                                                      longer_window):
    response = as_admin.post(page_of("policy_propose"), {"effective_at": "2020-01-01T09:00"},
                             HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "The time to take effect has passed" in text(response)
    assert PolicyVersion.objects.get().state == "draft"


def test_the_proposer_cannot_approve_on_the_page_either(as_admin, longer_window):
    # given the admin proposed the draft
    as_admin.post(page_of("policy_propose"), {})
    row = PolicyVersion.objects.get()
    # when they open the review page and post an approval anyway
    review = text(as_admin.get(page_of("policy_review"), HTTP_ACCEPT_LANGUAGE="en"))
    response = as_admin.post(page_of("policy_approve"), {"seen": row.proposed_at.isoformat()},
                             HTTP_ACCEPT_LANGUAGE="en", follow=True)
    # then the page offers them no approval, the post is refused with the reason, and the
    # version still waits
    assert page_of("policy_approve") not in review
    assert "You proposed this version yourself" in review
    assert "You proposed tencent-cloud@2 yourself: another admin must approve it." in \
        text(response)
    row.refresh_from_db()
    assert row.state == "proposed"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_second_admin_reviews_and_approves_for_a_later_time(
        client, make_staff, longer_window, as_admin, language):
    # given the draft proposed by its writer
    publishing.propose_publication(longer_window, actor=as_admin.user)
    row = PolicyVersion.objects.get()
    # when a second admin reads the proposal and approves it for a day ahead
    client.force_login(make_staff("admin", "second-admin"))
    review = client.get(page_of("policy_review"), HTTP_ACCEPT_LANGUAGE=language)
    assert review.status_code == 200
    assert page_of("policy_approve") in text(review)
    # (tomorrow where the desk is: tomorrow in UTC may have begun already in Shanghai)
    day = timezone.localdate() + timedelta(days=1)
    response = client.post(page_of("policy_approve"),
                           {"seen": row.proposed_at.isoformat(),
                            "effective_at": f"{day}T00:00"},
                           HTTP_ACCEPT_LANGUAGE=language, follow=True)
    # then it is published, scheduled, and the version page says when and shows its history
    row.refresh_from_db()
    assert (row.state, row.published_by.username) == ("published", "second-admin")
    page = text(response)
    assert f"{day} 00:00" in page and "Asia/Shanghai" in page
    assert [line.change.kind for line in response.context["history"]] == [
        "draft_saved", "proposed", "scheduled"]


def test_a_decline_without_a_reason_is_refused_and_with_one_accepted(
        client, make_staff, longer_window, as_admin):
    publishing.propose_publication(longer_window, actor=as_admin.user)
    seen = PolicyVersion.objects.get().proposed_at.isoformat()
    client.force_login(make_staff("admin", "second-admin"))
    client.post(page_of("policy_decline"), {"seen": seen, "reason": ""})
    assert PolicyVersion.objects.get().state == "proposed"
    response = client.post(page_of("policy_decline"), {"seen": seen, "reason": "not now"},
                           HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert PolicyVersion.objects.get().state == "draft"
    assert "Declined: tencent-cloud@2 is a draft again" in text(response)


def test_the_proposer_withdraws_on_the_version_page(as_admin, longer_window):
    publishing.propose_publication(longer_window, actor=as_admin.user)
    page = text(as_admin.get(page_of("policy_version"), HTTP_ACCEPT_LANGUAGE="en"))
    assert page_of("policy_withdraw") in page
    assert page_of("policy_edit") not in page  # no editing while proposed
    as_admin.post(page_of("policy_withdraw"))
    assert PolicyVersion.objects.get().state == "draft"


def test_a_proposed_draft_has_no_edit_page(as_admin, longer_window):
    publishing.propose_publication(longer_window, actor=as_admin.user)
    response = as_admin.post(page_of("policy_edit"), {"source": tencent(2)})
    assert response.status_code == 302
    assert PolicyVersion.objects.get().source == longer_window.source


# -- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_other_than_admins_reach_none_of_the_governance_pages(
        staff_client, make_staff, role):
    # given a proposal waiting for approval, and a staff member who is not an admin
    writer = make_staff("admin", "writer")
    draft = actions.save_draft("tencent-cloud", tencent(2), actor=writer)
    publishing.propose_publication(draft, actor=writer)
    seen = PolicyVersion.objects.get().proposed_at.isoformat()
    client = staff_client(role)
    # when they open or post to each page
    answers = [client.get(page_of("policy_compare")).status_code,
               client.get(page_of("policy_propose")).status_code,
               client.get(page_of("policy_review")).status_code,
               client.post(page_of("policy_approve"), {"seen": seen}).status_code,
               client.post(page_of("policy_decline"), {"seen": seen, "reason": "no"}
                           ).status_code,
               client.post(page_of("policy_withdraw")).status_code]
    # then each is refused, and the proposal still waits
    assert answers == [403] * 6
    assert PolicyVersion.objects.get().state == "proposed"
