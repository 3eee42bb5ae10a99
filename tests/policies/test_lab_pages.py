"""The policy lab's pages: an admin asks for a simulation, follows its progress, reads what
would change and each changed request's two explanations; nobody else sees them."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.policies.lab import run_simulation
from refunddesk.policies.lab_forms import default_period
from refunddesk.policies.models import PolicySimulation, SimulationState
from tests.policies.conftest import tencent
from tests.policies.test_simulation import an_order, apply

pytestmark = pytest.mark.django_db

WIDER = tencent(2).replace('length = "5d"', 'length = "10d"', 1)
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def late_case():
    """Han Meimei applied on day 7, after Tencent Cloud's five days: prorated."""
    return apply(an_order("TC-HAN-1", account="acct-2002"), 8)


@pytest.fixture
def as_admin(staff_client):
    client = staff_client("admin")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages matched are English
    return client


def simulate(client, **fields):
    return client.post(reverse("console:policy_simulate", args=["tencent-cloud"]),
                       {"version": "", "source": "", "product": "", **MARCH, **fields})


def test_the_form_offers_the_policys_versions_and_the_last_ninety_days(as_admin):
    response = as_admin.get(reverse("console:policy_simulate", args=["tencent-cloud"]))
    assert response.status_code == 200
    form = response.context["form"]
    assert "tencent-cloud@1" in dict(form.fields["version"].choices)
    assert (form.fields["start"].initial, form.fields["end"].initial) == default_period(
        timezone.localdate())


def test_a_version_waiting_for_approval_is_offered_as_such(as_admin, admin):
    from refunddesk.policies import actions, publishing

    proposed = publishing.propose_publication(
        actions.save_draft("tencent-cloud", tencent(2), actor=admin), actor=admin)
    form = as_admin.get(reverse("console:policy_simulate", args=["tencent-cloud"])).context[
        "form"]
    assert dict(form.fields["version"].choices)[proposed.ref] == "tencent-cloud@2 · proposed"
    assert form.fields["version"].initial == proposed.ref


def test_the_default_period_is_the_last_ninety_days_with_today():
    assert default_period(date(2026, 5, 20)) == (date(2026, 2, 20), date(2026, 5, 20))


def test_an_admin_simulates_the_editors_text_and_reads_what_would_change(as_admin, late_case):
    response = simulate(as_admin, source=WIDER)
    simulation = PolicySimulation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:policy_simulation", args=[simulation.pk])
    assert simulation.ref == "tencent-cloud@2" and simulation.state == SimulationState.QUEUED
    page = as_admin.get(response["Location"])
    assert b"simulation-progress" in page.content  # waiting for the worker
    assert run_simulation.call(simulation.pk) == SimulationState.DONE
    page = as_admin.get(response["Location"]).content.decode()
    assert "1 of 1 request would be decided differently" in page
    assert late_case.tracking_number in page
    assert "CN¥900.00" in page  # the widened five days give the cash back


def test_the_drill_down_shows_both_explanations_in_the_viewers_language(as_admin, late_case):
    simulate(as_admin, source=WIDER)
    simulation = PolicySimulation.objects.get()
    run_simulation.call(simulation.pk)
    address = reverse("console:policy_simulation_case", args=[simulation.pk, late_case.pk])
    page = as_admin.get(address)
    assert page.status_code == 200
    before, after = page.context["before_explanation"], page.context["after_explanation"]
    assert before and after and before != after
    page = as_admin.get(address, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert page.context["before_explanation"] != before  # the same steps, in Chinese


def test_the_editors_text_arrives_in_the_form_without_running_anything(as_admin):
    response = as_admin.post(reverse("console:policy_simulate", args=["tencent-cloud"]),
                             {"from_editor": "1", "source": WIDER})
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.is_bound and form.initial["source"] == WIDER
    assert not PolicySimulation.objects.exists()


def test_a_versions_page_and_the_editor_lead_to_the_lab(as_admin):
    version = as_admin.get(reverse("console:policy_version", args=["tencent-cloud", 1]))
    lab = reverse("console:policy_simulate", args=["tencent-cloud"])
    assert f'href="{lab}?version=tencent-cloud%401"' in version.content.decode()
    chosen = as_admin.get(lab + "?version=tencent-cloud@1").context["form"]
    assert chosen.fields["version"].initial == "tencent-cloud@1"
    editor = as_admin.get(reverse("console:policy_new", args=["tencent-cloud"]))
    assert f'formaction="{lab}"' in editor.content.decode()


def test_a_request_the_draft_does_not_change_has_no_drill_down(as_admin, late_case):
    first = apply(an_order("TC-LI-1"), 4)
    simulate(as_admin, source=WIDER)
    simulation = PolicySimulation.objects.get()
    run_simulation.call(simulation.pk)
    address = reverse("console:policy_simulation_case", args=[simulation.pk, first.pk])
    assert as_admin.get(address).status_code == 404


def test_the_progress_is_polled_as_a_fragment(as_admin, late_case):
    simulate(as_admin, version="tencent-cloud@1", source="")
    simulation = PolicySimulation.objects.get()
    fragment = as_admin.get(reverse("console:policy_simulation", args=[simulation.pk]),
                            HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 2s"' in fragment.content
    run_simulation.call(simulation.pk)
    fragment = as_admin.get(reverse("console:policy_simulation", args=[simulation.pk]),
                            HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in fragment.content


@pytest.mark.parametrize(("fields", "error"), [
    ({"source": WIDER.replace('id = "tencent-cloud"', 'id = "other-cloud"', 1)},
     "policy other-cloud, not tencent-cloud"),
    ({"source": 'id = "tencent-cloud"\nversion = "two"\n'}, "Not a valid policy"),
    ({"source": WIDER, "start": "2026-03-31", "end": "2026-03-01"},
     "The period ends before it starts"),
    ({"source": WIDER, "start": "2025-01-01", "end": "2026-03-01"}, "at most 366 days"),
    ({"version": "tencent-cloud@9"}, "Select a valid choice"),
    ({"source": WIDER, "start": "not a date"}, "Enter a valid date"),
])
def test_bad_input_is_a_form_error_and_nothing_is_asked(as_admin, fields, error):
    response = simulate(as_admin, **fields)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not PolicySimulation.objects.exists()


def test_an_unknown_policy_has_no_lab(as_admin):
    assert as_admin.get(reverse("console:policy_simulate", args=["no-such"])).status_code == 404


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_only_admins_use_the_lab(staff_client, role, late_case, make_staff):
    admin = make_staff("admin", "lab-admin")
    from refunddesk.policies.lab import request_simulation
    from refunddesk.policy.schema import policy_from_toml

    simulation = request_simulation(policy_from_toml(WIDER), WIDER, start=date(2026, 3, 1),
                                    end=date(2026, 3, 31), tz=late_case.submitted_at.tzinfo,
                                    product="", actor=admin)
    client = staff_client(role)
    for address in (reverse("console:policy_simulate", args=["tencent-cloud"]),
                    reverse("console:policy_simulation", args=[simulation.pk]),
                    reverse("console:policy_simulation_case",
                            args=[simulation.pk, late_case.pk])):
        assert client.get(address).status_code == 403
    assert simulate(client, source=WIDER).status_code == 403
