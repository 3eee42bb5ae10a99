"""Which version applies: the preset until a stored version is published, the newest
published one after, and for a case always the version it was assessed with."""

import pytest
from django.utils import timezone

from refunddesk.cases import actions as case_actions
from refunddesk.cases.sla import policy_of
from refunddesk.policies import actions, publishing
from refunddesk.policies.models import PolicyVersion, PublishedVersionIsImmutable
from refunddesk.policies.store import current_policy, next_version, policy_by_ref
from refunddesk.policy.presets import load_preset
from refunddesk.policy.schema import PolicyError
from tests.policies.conftest import tencent
from tests.portal.builders import customer_for, server_order


def test_without_stored_versions_the_shipped_preset_is_current(db):
    # given no stored version of tencent-cloud
    # when the current policy is asked for
    policy = current_policy("tencent-cloud", at=timezone.now())
    # then it is the preset
    assert policy is load_preset("tencent-cloud")
    assert policy.ref == "tencent-cloud@1"


def test_a_draft_does_not_change_which_version_is_current(draft):
    # given a draft tencent-cloud@2
    # then new assessments still use the preset
    assert current_policy("tencent-cloud", at=timezone.now()).ref == "tencent-cloud@1"


def test_a_published_version_takes_over_from_the_preset(published):
    # given tencent-cloud@2 published
    # when the current policy is asked for
    policy = current_policy("tencent-cloud", at=timezone.now())
    # then it is the stored version, with its own rules
    assert policy.ref == "tencent-cloud@2"
    assert "voucher" in policy.rules[0].funding


def test_the_newest_published_version_is_current(published, admin, second_admin):
    # given versions 2 and 3 published
    third = actions.save_draft("tencent-cloud", tencent(3), actor=admin)
    publishing.propose_and_approve(third, proposed_by=admin, approved_by=second_admin)
    # then version 3 is current
    assert current_policy("tencent-cloud", at=timezone.now()).ref == "tencent-cloud@3"


def test_a_published_version_is_parsed_once_per_process(published):
    # when the current policy is asked for twice
    # then the same parsed policy comes back (published versions never change)
    now = timezone.now()
    assert current_policy("tencent-cloud", at=now) is current_policy("tencent-cloud", at=now)


def test_a_reference_names_the_published_version_or_the_preset(published):
    # given the preset version 1 and the published version 2
    # then each reference finds its own version
    assert policy_by_ref("tencent-cloud@1") is load_preset("tencent-cloud")
    assert "voucher" in policy_by_ref("tencent-cloud@2").rules[0].funding
    assert "voucher" not in policy_by_ref("tencent-cloud@1").rules[0].funding


@pytest.mark.parametrize("ref", ["tencent-cloud@9", "no-such-policy@1", "tencent-cloud"])
def test_a_reference_to_no_such_version_is_refused(db, ref):
    # when a reference that names nothing stored or shipped is resolved
    # then it is refused with the reference in the message
    with pytest.raises(PolicyError, match=r"tencent-cloud|no-such-policy"):
        policy_by_ref(ref)


def test_a_draft_is_never_what_a_reference_names(draft):
    # given tencent-cloud@2 only as a draft
    # then no case can be resolved to it
    with pytest.raises(PolicyError, match="no such policy version"):
        policy_by_ref("tencent-cloud@2")


def test_a_new_policy_has_no_current_version_until_one_is_published(admin):
    # given a draft of a policy that is not a preset
    actions.save_draft("my-cloud", tencent(1, policy_id="my-cloud"), actor=admin)
    # then it has no current version yet
    with pytest.raises(PolicyError, match="my-cloud: no such policy"):
        current_policy("my-cloud", at=timezone.now())


def test_the_next_version_number_follows_the_preset_and_every_stored_version(draft):
    # given the preset version 1 and a draft version 2
    # then the next version is 3; a policy never seen starts at 1
    assert next_version("tencent-cloud") == 3
    assert next_version("my-cloud") == 1


def test_a_case_keeps_its_version_after_a_new_one_is_published(admin, second_admin):
    # given Alice's case, assessed under the preset (900.00: the voucher is kept)
    order = server_order("TC-ALICE-1", "acct-alice", "alice@example.com")
    customer = customer_for(order.account)
    case = case_actions.submit(account=order.account, order=order, line_ids=["1"],
                               actor=customer, channel="portal", language="en")
    assert case.policy_ref == "tencent-cloud@1"
    assert case.assessed_total_minor == 90000
    # when version 2, which gives vouchers back, is published
    draft = actions.save_draft("tencent-cloud", tencent(2, refund_vouchers=True), actor=admin)
    publishing.propose_and_approve(draft, proposed_by=admin, approved_by=second_admin)
    # then the case still names version 1, and its clocks are counted under version 1
    case.refresh_from_db()
    assert case.policy_ref == "tencent-cloud@1"
    assert case.assessed_total_minor == 90000
    assert policy_of(case) is load_preset("tencent-cloud")
    # and a new case is assessed under version 2
    bob = server_order("TC-BOB-1", "acct-bob", "bob@example.com")
    bob_case = case_actions.submit(account=bob.account, order=bob, line_ids=["1"],
                                   actor=customer_for(bob.account), channel="portal",
                                   language="en")
    assert bob_case.policy_ref == "tencent-cloud@2"
    assert bob_case.assessed_total_minor == 96000
    assert policy_of(bob_case).ref == "tencent-cloud@2"


def test_a_published_version_cannot_be_changed_or_deleted(published):
    # given a published version
    row = PolicyVersion.objects.get(pk=published.pk)
    # when someone changes or deletes it in code
    row.source = tencent(2)
    with pytest.raises(PublishedVersionIsImmutable):
        row.save()
    with pytest.raises(PublishedVersionIsImmutable):
        row.delete()
    with pytest.raises(PublishedVersionIsImmutable):
        PolicyVersion.objects.filter(pk=row.pk).delete()
    # then it is as it was published
    assert PolicyVersion.objects.get(pk=row.pk).source == published.source


def test_a_draft_can_be_deleted(draft):
    # given a draft nobody uses
    # when it is deleted
    draft.delete()
    # then it is gone
    assert not PolicyVersion.objects.exists()
