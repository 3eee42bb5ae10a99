"""Publishing with four eyes and on a schedule: one admin proposes, another approves or
declines, the proposer may withdraw; nobody approves their own proposal; a version scheduled
for later assesses nothing before its time and everything after; every step is audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from refunddesk.cases.assessing import assess_order
from refunddesk.cases.errors import NotPermitted
from refunddesk.inbox.mail import staff_mail
from refunddesk.inbox.models import EmailMode, Notice, NoticeKind, Preference
from refunddesk.inbox.presenting import describe, target
from refunddesk.notifications.models import EmailDelivery
from refunddesk.policies import actions, publishing
from refunddesk.policies.actions import PolicyStoreError
from refunddesk.policies.models import PolicyChange, PolicyVersion
from refunddesk.policies.store import current_policy, known_policy_ids
from tests.policies.conftest import tencent
from tests.staff import staff_member


def kinds(version):
    return list(version.changes.order_by("at", "id").values_list("kind", flat=True))


@pytest.fixture
def proposed(draft, admin):
    """Draft tencent-cloud@2 proposed by `admin`, to take effect once approved."""
    return publishing.propose_publication(draft, actor=admin, note="vouchers back")


# -- four eyes -------------------------------------------------------------------------------

def test_an_admin_cannot_approve_their_own_proposal(proposed, admin):
    # given a draft the admin proposed
    # when the same admin approves it
    with pytest.raises(NotPermitted, match=r"You proposed tencent-cloud@2 yourself: another "
                                           r"admin must approve it\."):
        publishing.approve_publication(proposed, actor=admin)
    # then it stays proposed, and nothing is in force but the preset
    proposed.refresh_from_db()
    assert proposed.state == "proposed"
    assert current_policy("tencent-cloud", at=timezone.now()).ref == "tencent-cloud@1"
    assert kinds(proposed) == ["draft_saved", "proposed"]


def test_the_two_step_shortcut_refuses_one_admin_in_both_roles(draft, admin):
    # when the demo's and tests' shortcut is given the same admin twice
    with pytest.raises(NotPermitted):
        publishing.propose_and_approve(draft, proposed_by=admin, approved_by=admin)
    # then nothing happened at all: not even the proposal
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert kinds(draft) == ["draft_saved"]


def test_a_second_admin_approves_and_the_version_is_published(proposed, admin, second_admin):
    # when another admin approves the proposal
    row = publishing.approve_publication(proposed, actor=second_admin,
                                         seen=proposed.proposed_at.isoformat())
    # then it is published, in force now, naming both people
    assert (row.state, row.proposed_by, row.published_by) == ("published", admin,
                                                              second_admin)
    assert row.effective_at == row.published_at
    assert current_policy("tencent-cloud", at=timezone.now()).ref == "tencent-cloud@2"
    # and each step is in its history, by whom
    changes = list(row.changes.order_by("at", "id"))
    assert [(c.kind, c.changed_by) for c in changes] == [
        ("draft_saved", admin), ("proposed", admin), ("published", second_admin)]
    assert changes[1].details["note"] == "vouchers back"
    assert changes[2].details["proposed_by"] == admin.username


def test_an_approval_of_a_proposal_made_again_since_the_page_was_read_is_refused(
        proposed, admin, second_admin):
    # given the approver read the proposal, then it was withdrawn and proposed again
    seen = proposed.proposed_at.isoformat()
    publishing.withdraw_proposal(proposed, actor=admin)
    publishing.propose_publication(proposed, actor=admin,
                                   now=timezone.now() + timedelta(seconds=1))
    # when they approve what they read
    with pytest.raises(PolicyStoreError, match="has changed since you opened the page"):
        publishing.approve_publication(proposed, actor=second_admin, seen=seen)
    # then it is still waiting
    assert PolicyVersion.objects.get().state == "proposed"


def test_the_other_admins_are_told_a_publication_waits_for_them(draft, admin, second_admin):
    # given a third admin and an agent
    third = staff_member("policy-admin-3", "admin")
    staff_member("policy-agent", "agent")
    # when the admin proposes the draft
    publishing.propose_publication(draft, actor=admin)
    # then every other admin has a notice leading to the version, and nobody else
    notices = Notice.objects.filter(kind=NoticeKind.PUBLICATION_WANTED)
    assert {notice.recipient for notice in notices} == {second_admin, third}
    notice = notices.get(recipient=second_admin)
    assert target(notice) == reverse("console:policy_version", args=["tencent-cloud", 2])
    assert describe(notice) == ("policy-admin proposes to publish the refund policy version "
                                "tencent-cloud@2: another admin must approve or decline it.")


def test_an_admin_who_wants_e_mail_at_once_is_mailed_about_the_proposal(draft, admin,
                                                                         second_admin):
    # given the second admin wants each notice by e-mail at once, in Chinese
    Preference.objects.create(user=second_admin, email=EmailMode.AT_ONCE, language="zh-hans")
    # when a draft is proposed
    publishing.propose_publication(draft, actor=admin)
    # then an e-mail is queued for them, naming the version, in their language
    delivery = EmailDelivery.objects.get(to_address=second_admin.email)
    subject, body, _html = staff_mail(delivery)
    with translation.override("zh-hans"):
        assert subject == str(NoticeKind.PUBLICATION_WANTED.label)
    assert "tencent-cloud@2" in body


# -- decline and withdraw --------------------------------------------------------------------

def test_a_declined_proposal_is_a_draft_again_and_its_proposer_is_told_why(
        proposed, admin, second_admin):
    # when another admin declines it with a reason
    row = publishing.decline_publication(proposed, actor=second_admin,
                                         reason="the five days must stay cash only")
    # then it is a draft again, editable, with the decline and its reason recorded
    assert (row.state, row.proposed_by, row.proposed_at) == ("draft", None, None)
    change = row.changes.get(kind="declined")
    assert (change.changed_by, change.details["reason"]) == (
        second_admin, "the five days must stay cash only")
    actions.save_draft("tencent-cloud", tencent(2), actor=admin, draft=row)
    # and the proposer has a notice saying who declined and why
    notice = Notice.objects.get(kind=NoticeKind.PUBLICATION_DECLINED)
    assert notice.recipient == admin
    assert "the five days must stay cash only" in describe(notice)


def test_a_decline_needs_a_reason(proposed, second_admin):
    with pytest.raises(PolicyStoreError, match=r"Say why you decline publishing "
                                               r"tencent-cloud@2\."):
        publishing.decline_publication(proposed, actor=second_admin, reason="  ")
    assert PolicyVersion.objects.get().state == "proposed"


def test_the_proposer_withdraws_rather_than_declines(proposed, admin):
    with pytest.raises(PolicyStoreError, match="withdraw the proposal instead"):
        publishing.decline_publication(proposed, actor=admin, reason="changed my mind")
    row = publishing.withdraw_proposal(proposed, actor=admin)
    assert row.state == "draft"
    assert kinds(row) == ["draft_saved", "proposed", "withdrawn"]


def test_only_the_proposer_withdraws(proposed, second_admin):
    with pytest.raises(PolicyStoreError, match="Only the admin who proposed tencent-cloud@2 "
                                               "withdraws the proposal"):
        publishing.withdraw_proposal(proposed, actor=second_admin)
    assert PolicyVersion.objects.get().state == "proposed"


def test_a_proposed_draft_cannot_be_edited(proposed, admin):
    # when the text is changed while the proposal waits
    with pytest.raises(PolicyStoreError, match="is proposed for publication and cannot "
                                               "change: withdraw the proposal first"):
        actions.save_draft("tencent-cloud", tencent(2), actor=admin, draft=proposed)
    # then the text is the one proposed
    assert PolicyVersion.objects.get().source == proposed.source


# -- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_only_admins_propose_approve_decline_or_withdraw(proposed, admin, role):
    # given a proposal and a staff member who is no admin
    someone = staff_member(f"{role}-1", role)
    third = actions.save_draft("tencent-cloud", tencent(3), actor=admin)
    # when they try each step
    # then each is refused, and nothing changed
    for step in (lambda: publishing.propose_publication(third, actor=someone),
                 lambda: publishing.approve_publication(proposed, actor=someone),
                 lambda: publishing.decline_publication(proposed, actor=someone, reason="no"),
                 lambda: publishing.withdraw_proposal(proposed, actor=someone)):
        with pytest.raises(NotPermitted):
            step()
    assert list(PolicyVersion.objects.order_by("version").values_list("state", flat=True)) \
        == ["proposed", "draft"]
    assert not PolicyChange.objects.filter(changed_by=someone).exists()


# -- scheduled versions ----------------------------------------------------------------------

def test_a_scheduled_version_takes_effect_at_its_time(draft, admin, second_admin, alice_order):
    # given tencent-cloud@2 (vouchers back in the five days) approved to take effect in an
    # hour, and Alice's server, inside its five days
    now = timezone.now()
    takes_effect = now + timedelta(hours=1)
    publishing.propose_publication(draft, actor=admin, effective_at=takes_effect, now=now)
    row = publishing.approve_publication(draft, actor=second_admin, now=now)
    assert (row.state, row.effective_at) == ("published", takes_effect)
    assert kinds(row)[-1] == "scheduled"
    # when her order is assessed just before that time and just after
    before = assess_order(alice_order, ["1"], as_of=takes_effect - timedelta(seconds=1))
    after = assess_order(alice_order, ["1"], as_of=takes_effect)
    # then before, the preset assesses it (the voucher is kept); from its time, version 2
    assert (before[0].ref, before[1].total) == ("tencent-cloud@1", 90000)
    assert (after[0].ref, after[1].total) == ("tencent-cloud@2", 96000)
    # and the store says the same for any moment
    assert current_policy("tencent-cloud", at=now).ref == "tencent-cloud@1"
    assert current_policy("tencent-cloud", at=takes_effect + timedelta(days=9)).ref == \
        "tencent-cloud@2"


def test_the_approver_may_set_the_time_and_a_passed_time_means_at_once(
        draft, admin, second_admin):
    # given a proposal to take effect in a minute, approved two minutes later
    now = timezone.now()
    publishing.propose_publication(draft, actor=admin, effective_at=now + timedelta(minutes=1),
                                   now=now)
    row = publishing.approve_publication(draft, actor=second_admin,
                                         now=now + timedelta(minutes=2))
    # then it is in force from the approval, and the time asked for is kept in the audit
    assert row.effective_at == now + timedelta(minutes=2)
    change = row.changes.get(kind="published")
    assert change.details["asked_for"] == (now + timedelta(minutes=1)).isoformat()


def test_the_approver_schedules_a_proposal_that_asked_for_no_time(proposed, second_admin):
    later = timezone.now() + timedelta(days=3)
    row = publishing.approve_publication(proposed, actor=second_admin, effective_at=later)
    assert row.effective_at == later
    assert row.changes.get(kind="scheduled").details["effective_at"] == later.isoformat()


def test_a_time_in_the_past_is_refused(draft, admin):
    with pytest.raises(PolicyStoreError, match="The time to take effect has passed"):
        publishing.propose_publication(draft, actor=admin,
                                       effective_at=timezone.now() - timedelta(hours=1))
    assert PolicyVersion.objects.get().state == "draft"


def test_versions_take_effect_in_the_order_of_their_numbers(draft, admin, second_admin):
    # given version 2 scheduled ten days ahead
    in_ten_days = timezone.now() + timedelta(days=10)
    publishing.propose_and_approve(draft, proposed_by=admin, approved_by=second_admin,
                                   effective_at=in_ten_days)
    # when version 3 is to take effect before it
    third = actions.save_draft("tencent-cloud", tencent(3), actor=admin)
    with pytest.raises(PolicyStoreError,
                       match=r"tencent-cloud@2 takes effect at .*: tencent-cloud@3 cannot "
                             r"take effect before it"):
        publishing.propose_and_approve(third, proposed_by=admin, approved_by=second_admin)
    # then it waits as a draft; at version 2's time or later it is accepted
    third.refresh_from_db()
    assert third.state == "draft"
    row = publishing.propose_and_approve(third, proposed_by=admin, approved_by=second_admin,
                                         effective_at=in_ten_days + timedelta(days=1))
    assert row.effective_at == in_ten_days + timedelta(days=1)


def test_a_policy_only_scheduled_cannot_be_given_to_a_product_yet(admin, second_admin):
    row = actions.save_draft("my-cloud", tencent(1, policy_id="my-cloud"), actor=admin)
    in_a_day = timezone.now() + timedelta(days=1)
    publishing.propose_and_approve(row, proposed_by=admin, approved_by=second_admin,
                                   effective_at=in_a_day)
    assert "my-cloud" not in known_policy_ids(at=timezone.now())
    assert "my-cloud" in known_policy_ids(at=in_a_day)


def test_the_workers_pass_records_once_that_a_scheduled_version_took_effect(
        draft, admin, second_admin):
    # given version 2 scheduled for in an hour
    now = timezone.now()
    in_an_hour = now + timedelta(hours=1)
    publishing.propose_and_approve(draft, proposed_by=admin, approved_by=second_admin,
                                   effective_at=in_an_hour, now=now)
    # when the pass runs before the time, then twice after it
    assert publishing.record_taking_effect(now + timedelta(minutes=30)) == 0
    assert publishing.record_taking_effect(in_an_hour + timedelta(minutes=1)) == 1
    assert publishing.record_taking_effect(in_an_hour + timedelta(minutes=2)) == 0
    # then the history says it took effect at its time, by the desk itself
    change = PolicyChange.objects.get(kind="took_effect")
    assert (change.at, change.changed_by, change.actor_name) == (in_an_hour, None,
                                                                 "policy_schedule")
    assert kinds(draft)[-2:] == ["scheduled", "took_effect"]


def test_a_version_in_force_at_once_needs_no_took_effect_row(published):
    assert publishing.record_taking_effect(timezone.now() + timedelta(days=1)) == 0
