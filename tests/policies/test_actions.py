"""Writing, publishing and assigning policies: every refusal names what is wrong and
changes nothing; only admins may do any of it. (Publishing's four eyes and scheduling are
tested in test_governance.py.)"""

import pytest

from refunddesk.billing.models import Product
from refunddesk.cases.errors import NotPermitted
from refunddesk.policies import actions, publishing
from refunddesk.policies.actions import PolicyStoreError
from refunddesk.policies.models import PolicyVersion
from tests.policies.conftest import tencent
from tests.portal.builders import ensure_products
from tests.staff import staff_member

# -- save_draft ----------------------------------------------------------------------------

def test_a_draft_is_stored_as_the_next_version(admin):
    # when an admin saves tencent-cloud@2
    row = actions.save_draft("tencent-cloud", tencent(2), actor=admin, note="first edit")
    # then it is a draft, written by them, with the text as given
    assert (row.ref, row.state, row.created_by, row.note) == (
        "tencent-cloud@2", "draft", admin, "first edit")
    assert row.source == tencent(2)
    assert row.published_at is None


def test_text_from_a_browser_is_stored_with_plain_line_ends(admin):
    # when the text comes with CRLF line ends
    row = actions.save_draft("tencent-cloud", tencent(2).replace("\n", "\r\n"), actor=admin)
    # then it is stored as a file would hold it
    assert "\r" not in row.source


def test_text_that_is_not_toml_is_refused_and_nothing_is_stored(admin):
    # when the text is not TOML
    with pytest.raises(PolicyStoreError) as error:
        actions.save_draft("tencent-cloud", 'id = "tencent-cloud"\nversion = \n', actor=admin)
    # then the problem says so, with its line
    assert error.value.problems[0].startswith("not valid TOML:")
    assert "line 2" in error.value.problems[0]
    assert not PolicyVersion.objects.exists()


def test_every_problem_of_the_file_is_named_by_its_key(admin):
    # given a file with two mistakes
    text = tencent(2).replace('length = "5d"', 'length = "5 days"').replace(
        'handling = "review"', 'handling = "later"')
    # when it is saved
    with pytest.raises(PolicyStoreError) as error:
        actions.save_draft("tencent-cloud", text, actor=admin)
    # then both problems are reported, each by its key
    keys = [problem.split(":")[0] for problem in error.value.problems]
    assert keys == ["rules[0].window.length", "rules[1].handling"]
    assert not PolicyVersion.objects.exists()


def test_a_file_with_another_policy_id_is_refused_naming_the_id_key(admin):
    # when the file's id is not the policy's
    with pytest.raises(PolicyStoreError) as error:
        actions.save_draft("tencent-cloud", tencent(2, policy_id="other-cloud"), actor=admin)
    # then the problem names the id key and both ids
    assert error.value.problems == [
        'id: must be "tencent-cloud", the policy this version belongs to, not "other-cloud"']
    assert not PolicyVersion.objects.exists()


@pytest.mark.parametrize("version", [1, 3])
def test_a_file_with_a_version_other_than_the_next_is_refused(admin, version):
    # given the preset is version 1, so the next version is 2
    # when a file says version 1 (the preset's) or 3 (skipping one)
    with pytest.raises(PolicyStoreError) as error:
        actions.save_draft("tencent-cloud", tencent(version), actor=admin)
    # then the problem names the version key and the number it must be
    assert error.value.problems == [
        f"version: must be 2, the next version of tencent-cloud, not {version}"]
    assert not PolicyVersion.objects.exists()


def test_the_next_version_counts_drafts_too(draft, admin):
    # given draft 2
    # when another version 2 is saved
    with pytest.raises(PolicyStoreError, match="must be 3"):
        actions.save_draft("tencent-cloud", tencent(2), actor=admin)
    # then version 3 is what is accepted
    assert actions.save_draft("tencent-cloud", tencent(3), actor=admin).version == 3


def test_an_admin_may_start_a_new_policy_at_version_1(admin):
    # when an admin saves a policy that is not a preset
    row = actions.save_draft("my-cloud", tencent(1, policy_id="my-cloud"), actor=admin)
    # then it is its version 1
    assert row.ref == "my-cloud@1"


def test_a_policy_id_that_is_not_a_slug_is_refused(admin):
    with pytest.raises(PolicyStoreError, match=r"^id: use lower-case letters"):
        actions.save_draft("My Cloud", tencent(1, policy_id="my-cloud"), actor=admin)


def test_a_draft_can_be_revised_under_its_own_number(draft, admin):
    # when the draft is saved again with changes
    row = actions.save_draft("tencent-cloud", tencent(2), actor=admin, draft=draft,
                             note="vouchers kept after all")
    # then it is the same version with the new text
    assert (row.pk, row.version, row.note) == (draft.pk, 2, "vouchers kept after all")
    assert PolicyVersion.objects.get().source == tencent(2)


def test_a_revised_draft_keeps_its_number(draft, admin):
    with pytest.raises(PolicyStoreError) as error:
        actions.save_draft("tencent-cloud", tencent(3), actor=admin, draft=draft)
    assert error.value.problems == [
        "version: must stay 2, the version of this draft, not 3"]
    assert PolicyVersion.objects.get().source == draft.source


def test_a_published_version_is_not_revised(published, admin):
    with pytest.raises(PolicyStoreError, match="is published and cannot change"):
        actions.save_draft("tencent-cloud", tencent(2), actor=admin, draft=published)
    assert PolicyVersion.objects.get().source == published.source


# -- publish ---------------------------------------------------------------------------------

def test_publishing_records_who_proposed_who_approved_and_when(draft, admin, second_admin):
    row = publishing.propose_and_approve(draft, proposed_by=admin, approved_by=second_admin)
    assert (row.state, row.proposed_by, row.published_by) == ("published", admin,
                                                              second_admin)
    assert row.published_at is not None
    assert row.effective_at == row.published_at
    assert PolicyVersion.objects.get().is_published


def test_a_version_is_published_once(published, admin):
    with pytest.raises(PolicyStoreError, match="tencent-cloud@2 is already published"):
        publishing.propose_publication(published, actor=admin)


def test_an_older_draft_is_not_published_over_a_newer_version(draft, admin, second_admin):
    # given draft 2, and version 3 published after it
    third = actions.save_draft("tencent-cloud", tencent(3), actor=admin)
    publishing.propose_and_approve(third, proposed_by=admin, approved_by=second_admin)
    # when draft 2 is proposed
    with pytest.raises(PolicyStoreError, match="tencent-cloud@3 is published already"):
        publishing.propose_publication(draft, actor=admin)
    # then it stays a draft
    draft.refresh_from_db()
    assert draft.state == "draft"


# -- assign_policy ---------------------------------------------------------------------------

@pytest.fixture
def server(db):
    ensure_products()
    return Product.objects.get(code="cvm")


def test_a_product_is_given_a_preset(server, admin):
    actions.assign_policy(server, "huawei-cloud", actor=admin)
    server.refresh_from_db()
    assert server.policy_id == "huawei-cloud"


def test_a_product_is_given_a_published_policy_of_the_merchants_own(server, admin,
                                                                     second_admin):
    row = actions.save_draft("my-cloud", tencent(1, policy_id="my-cloud"), actor=admin)
    publishing.propose_and_approve(row, proposed_by=admin, approved_by=second_admin)
    actions.assign_policy(server, "my-cloud", actor=admin)
    assert Product.objects.get(code="cvm").policy_id == "my-cloud"


@pytest.mark.parametrize("policy_id", ["no-such-policy", ""])
def test_a_product_is_not_given_an_unknown_policy(server, admin, policy_id):
    with pytest.raises(PolicyStoreError, match="There is no refund policy"):
        actions.assign_policy(server, policy_id, actor=admin)
    assert Product.objects.get(code="cvm").policy_id == "tencent-cloud"


def test_a_product_is_not_given_a_policy_with_only_drafts(server, admin):
    actions.save_draft("my-cloud", tencent(1, policy_id="my-cloud"), actor=admin)
    with pytest.raises(PolicyStoreError,
                       match="my-cloud has no published version in force yet"):
        actions.assign_policy(server, "my-cloud", actor=admin)
    assert Product.objects.get(code="cvm").policy_id == "tencent-cloud"


# -- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_only_admins_write_publish_and_assign_policies(db, admin, role):
    # given a draft written by an admin, and a staff member in another role
    ensure_products()
    draft = actions.save_draft("tencent-cloud", tencent(2), actor=admin)
    someone = staff_member(f"{role}-1", role)
    # when they try each change
    # then each is refused, and nothing changed
    with pytest.raises(NotPermitted):
        actions.save_draft("tencent-cloud", tencent(3), actor=someone)
    with pytest.raises(NotPermitted):
        publishing.propose_publication(draft, actor=someone)
    with pytest.raises(NotPermitted):
        actions.assign_policy(Product.objects.get(code="cvm"), "huawei-cloud", actor=someone)
    assert list(PolicyVersion.objects.values_list("version", "state")) == [(2, "draft")]
    assert Product.objects.get(code="cvm").policy_id == "tencent-cloud"


def test_a_customer_changes_no_policy(db, admin):
    from tests.portal.builders import customer_for, server_order

    order = server_order("TC-ALICE-1", "acct-alice", "alice@example.com")
    customer = customer_for(order.account)
    with pytest.raises(NotPermitted):
        actions.save_draft("tencent-cloud", tencent(2), actor=customer)
    assert not PolicyVersion.objects.exists()
