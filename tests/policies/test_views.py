"""The policies pages of the console: who may see them, the editor, the dry run, publishing
and the products table."""

import re

import pytest
from django.urls import reverse

from refunddesk.billing.models import Product
from refunddesk.policies.models import PolicyVersion
from tests.policies.conftest import tencent
from tests.portal.builders import customer_for, ensure_products

LIST = reverse("console:policies")
PRESET_PAGE = reverse("console:policy_version", args=["tencent-cloud", 1])
NEW_VERSION = reverse("console:policy_new", args=["tencent-cloud"])
NEW_POLICY = reverse("console:policy_create")


def version_page(version):
    return reverse("console:policy_version", args=["tencent-cloud", version])


def publish_page(version):
    """Where publishing starts: the proposal a second admin approves."""
    return reverse("console:policy_propose", args=["tencent-cloud", version])


def text(response):
    return response.content.decode()


@pytest.fixture
def as_admin(staff_client):
    return staff_client("admin")


# -- who may see ---------------------------------------------------------------------------

PAGES = [LIST, PRESET_PAGE, NEW_VERSION, NEW_POLICY]


@pytest.mark.parametrize("url", PAGES)
def test_a_visitor_is_sent_to_log_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_a_customer_is_refused(client, alice_order, url):
    client.force_login(customer_for(alice_order.account))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
@pytest.mark.parametrize("url", PAGES)
def test_staff_other_than_admins_are_refused(staff_client, role, url):
    assert staff_client(role).get(url).status_code == 403


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_other_than_admins_cannot_publish_or_assign(staff_client, draft, role):
    # given a draft and a staff member who is not an admin
    ensure_products()
    client = staff_client(role)
    # when they post to publish it and to change a product's policy
    publish = client.post(publish_page(2))
    assign = client.post(reverse("console:policy_assign", args=["cvm"]),
                         {"policy_id": "huawei-cloud"})
    # then both are refused and nothing changed
    assert (publish.status_code, assign.status_code) == (403, 403)
    assert PolicyVersion.objects.get().state == "draft"
    assert Product.objects.get(code="cvm").policy_id == "tencent-cloud"


# -- the list ------------------------------------------------------------------------------

def test_the_list_shows_presets_stored_versions_and_products(as_admin, draft, alice_order):
    # given the presets, a draft tencent-cloud@2 and the products of the demo orders
    # when an admin opens the policies page
    response = as_admin.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    page = text(response)
    # then every preset is listed, tencent-cloud with its current version, its draft and
    # the product that uses it
    assert response.status_code == 200
    for preset in ("alibaba-cloud", "huawei-cloud", "tencent-cloud", "vpn-30-day"):
        assert f'id="policy-{preset}"' in page
    row = page[page.index('id="policy-tencent-cloud"'):page.index('id="policy-vpn-30-day"')]
    assert "tencent-cloud@1" in row and "current" in row
    assert reverse("console:policy_version", args=["tencent-cloud", 2]) in row
    assert "draft" in row
    assert "<code>cvm</code>" in row
    assert 'id="product-cvm"' in page and 'id="product-vpn"' in page


# -- the editor ----------------------------------------------------------------------------

def test_the_editor_starts_from_the_current_version_with_the_next_number(as_admin):
    response = as_admin.get(NEW_VERSION)
    assert response.status_code == 200
    assert 'id = "tencent-cloud"\nversion = 2\n' in response.context["form"]["source"].value()


def test_a_draft_is_saved_and_shown(as_admin):
    # when an admin saves version 2
    response = as_admin.post(NEW_VERSION, {"source": tencent(2, refund_vouchers=True),
                                           "note": "vouchers back"})
    # then it is stored as a draft and its page shows it
    assert response.status_code == 302
    assert response["Location"] == version_page(2)
    assert PolicyVersion.objects.get().ref == "tencent-cloud@2"
    page = text(as_admin.get(version_page(2), HTTP_ACCEPT_LANGUAGE="en"))
    assert "vouchers back" in page and 'funding = [&quot;cash&quot;, &quot;balance&quot;' in page


def test_a_draft_with_mistakes_is_shown_again_with_each_key_and_its_line(as_admin):
    # given a file whose five-day window has a length the format does not know (line 26)
    bad = tencent(2).replace('length = "5d"', 'length = "5 days"')
    # when an admin saves it
    response = as_admin.post(NEW_VERSION, {"source": bad}, HTTP_ACCEPT_LANGUAGE="en")
    page = text(response)
    # then nothing is stored, and the problem is shown by key and line, next to that line
    assert response.status_code == 400
    assert not PolicyVersion.objects.exists()
    assert '<code class="problem-key">rules[0].window.length</code>: expected a duration' in page
    assert '<a href="#line-26">line 26</a>' in page
    annotated = re.search(r'<li id="line-26" value="26" class="has-problem">(.*?)</li>', page,
                          re.S)
    assert annotated and "5 days" in annotated.group(1)
    assert "rules[0].window.length" in annotated.group(1)
    # and the text stays in the editor as typed
    assert response.context["form"]["source"].value() == bad


def test_a_draft_with_the_wrong_version_names_the_version_key(as_admin):
    response = as_admin.post(NEW_VERSION, {"source": tencent(5)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert ('<code class="problem-key">version</code>: must be 2, the next version of '
            "tencent-cloud, not 5") in text(response)
    assert '<a href="#line-4">line 4</a>' in text(response)


def test_a_new_policy_is_started_from_a_preset_under_its_own_id(as_admin):
    # when an admin opens the new-policy editor and saves it under the id it suggests
    start = as_admin.get(NEW_POLICY + "?from=vpn-30-day").context["form"]["source"].value()
    assert 'id = "my-policy"\nversion = 1\n' in start
    response = as_admin.post(NEW_POLICY, {"policy_id": "my-policy", "source": start})
    # then my-policy@1 is a draft
    assert response.status_code == 302
    assert PolicyVersion.objects.get().ref == "my-policy@1"


def test_a_draft_is_revised_on_its_own_page(as_admin, draft):
    url = reverse("console:policy_edit", args=["tencent-cloud", 2])
    assert as_admin.get(url).context["form"]["source"].value() == draft.source
    response = as_admin.post(url, {"source": tencent(2), "note": "second thoughts"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.source, draft.note) == (tencent(2), "second thoughts")


# -- the dry run ---------------------------------------------------------------------------

def test_a_dry_run_quotes_an_order_under_the_draft_with_figures_and_explanation(
        as_admin, draft, alice_order):
    # given draft 2, which gives vouchers back within five days, and Alice's order
    # when an admin quotes her order under the draft, in English
    response = as_admin.get(version_page(2), {"order": "TC-ALICE-1", "lines": ""},
                            HTTP_ACCEPT_LANGUAGE="en")
    page = text(response)
    # then the total, the line's figures and the explanation are shown
    assert response.status_code == 200
    assert '<strong class="numbers" id="dry-run-total">CN¥960.00</strong>' in page
    quote = response.context["quote"]
    assert quote.lines[0]["refundable"] == "960.00"
    assert quote.lines[0]["rule"] == "five_day_no_reason"
    assert "Total refund: 960.00 CNY." in page
    # and what the current version gives, for comparison
    assert "Under the current version tencent-cloud@1: CN¥900.00." in page
    # and nothing was stored
    assert not alice_order.refund_cases.exists()


def test_a_dry_run_explains_in_the_viewers_language(as_admin, draft, alice_order):
    response = as_admin.get(version_page(2), {"order": "TC-ALICE-1"},
                            HTTP_ACCEPT_LANGUAGE="zh-hans")
    explanation = response.context["quote"].assessment["explanation"]
    assert re.search(r"[\u4e00-\u9fff]", explanation[-1])
    assert "960.00 CNY" in explanation[-1] or "960.00 CNY" in " ".join(explanation)


def test_a_dry_run_of_chosen_lines_only(as_admin, draft, alice_order):
    response = as_admin.get(version_page(2), {"order": "TC-ALICE-1", "lines": "1"})
    assert [line["id"] for line in response.context["quote"].lines] == ["1"]


@pytest.mark.parametrize(("query", "message"), [
    ({"order": "TC-NOBODY"}, "There is no order TC-NOBODY."),
    ({"order": "TC-ALICE-1", "lines": "1, 9"},
     "lines: no line 9 in order TC-ALICE-1 (it has 1)"),
])
def test_a_dry_run_that_cannot_be_made_says_why(as_admin, draft, alice_order, query, message):
    response = as_admin.get(version_page(2), query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["quote_problem"] == message
    assert message in text(response)


def test_a_dry_run_under_the_preset_works_too(as_admin, alice_order):
    response = as_admin.get(PRESET_PAGE, {"order": "TC-ALICE-1"})
    assert response.context["quote"].assessment["total"] == "900.00"


# -- publishing ----------------------------------------------------------------------------

def test_publishing_asks_for_confirmation_first(as_admin, draft, alice_order):
    response = as_admin.get(publish_page(2), HTTP_ACCEPT_LANGUAGE="en")
    page = text(response)
    assert response.status_code == 200
    assert "instead of tencent-cloud@1" in page and "<code>cvm</code>" in page
    assert "Cases already opened keep the version they were assessed with." in page
    assert PolicyVersion.objects.get().state == "draft"


def test_publishing_takes_a_proposal_and_another_admins_approval(as_admin, draft, make_staff):
    # when an admin proposes the draft
    response = as_admin.post(publish_page(2), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    row = PolicyVersion.objects.get()
    assert (row.state, row.proposed_by) == ("proposed", as_admin.user)
    # and another admin approves it
    as_admin.force_login(make_staff("admin", "second-admin"))
    response = as_admin.post(reverse("console:policy_approve", args=["tencent-cloud", 2]),
                             {"seen": row.proposed_at.isoformat()},
                             HTTP_ACCEPT_LANGUAGE="en")
    # then it is published and current
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.published_by.username) == ("published", "second-admin")
    page = text(as_admin.get(version_page(2), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Approved: tencent-cloud@2 is published and in force now." in page
    assert "New assessments of this policy use this version." in page
    assert publish_page(2) not in page  # no second publish button


def test_publishing_twice_says_it_is_published_already(as_admin, published):
    response = as_admin.post(publish_page(2), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "tencent-cloud@2 is already published." in text(response)


def test_a_published_version_has_no_edit_page(as_admin, published):
    url = reverse("console:policy_edit", args=["tencent-cloud", 2])
    response = as_admin.post(url, {"source": tencent(2)})
    assert response.status_code == 302
    assert PolicyVersion.objects.get().source == published.source


def test_no_such_version_is_not_found(as_admin):
    assert as_admin.get(version_page(7)).status_code == 404
    assert as_admin.get(reverse("console:policy_new", args=["nothing"])).status_code == 404


# -- products ------------------------------------------------------------------------------

def test_an_admin_chooses_the_policy_of_a_product(as_admin, alice_order):
    response = as_admin.post(reverse("console:policy_assign", args=["cvm"]),
                             {"policy_id": "huawei-cloud"}, HTTP_ACCEPT_LANGUAGE="en",
                             follow=True)
    assert Product.objects.get(code="cvm").policy_id == "huawei-cloud"
    assert "cvm now uses huawei-cloud." in text(response)


def test_an_unknown_policy_is_not_given_to_a_product(as_admin, alice_order):
    response = as_admin.post(reverse("console:policy_assign", args=["cvm"]),
                             {"policy_id": "made-up"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert Product.objects.get(code="cvm").policy_id == "tencent-cloud"
    assert "There is no refund policy made-up" in text(response)


def test_the_editor_starts_from_the_current_version_even_with_a_draft_open(as_admin, draft):
    # given draft 2, which gives vouchers back, beside the current preset version 1
    # when an admin starts a new version, and one from the draft
    from_current = as_admin.get(NEW_VERSION).context["form"]["source"].value()
    from_draft = as_admin.get(NEW_VERSION + "?from=2").context["form"]["source"].value()
    # then both are numbered 3; the first has the preset's rules, the second the draft's
    assert "version = 3\n" in from_current and "version = 3\n" in from_draft
    assert '"gift", "voucher"]' not in from_current
    assert '"gift", "voucher"]' in from_draft
