"""Mass compensation in the console: admins only, a form whose mistakes are form errors, the
dry run to read, approval by a second admin (never the creator), start, pause and resume
with a progress bar."""

import pytest
from django.test import Client
from django.urls import reverse

from refunddesk.cases.models import RefundCase
from refunddesk.compensation.models import CompensationRun
from refunddesk.compensation.running import run_compensation
from tests.compensation.builders import order, planned_run
from tests.console.conftest import with_totp
from tests.staff import staff_member

NEW = reverse("console:compensation_new")
FORM = {"products": ["cvm"], "outage_start": "2026-05-01T02:00", "outage_end": "2026-05-04T02:00",
        "remedy": "refund_time", "credit_to": "balance", "message_en": "Our region was down.",
        "message_zh": "我们的区域发生了故障。"}


def logged_in(username, role="admin"):
    user = staff_member(username, role)
    with_totp(user)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def planner(db):
    return logged_in("admin-plans")


@pytest.fixture
def approver(db):
    return logged_in("admin-approves")


def page(client, run):
    return client.get(reverse("console:compensation_run", args=[run.pk]))


def test_an_admin_plans_a_run_and_reads_its_dry_run(planner):
    # given servers running during the outage
    order(1)
    order(2)

    # when an admin fills in the form
    response = planner.post(NEW, FORM)

    # then the run is planned, its dry run worked out, and its page shows the figures and
    # the sentences in both languages
    run = CompensationRun.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("console:compensation_run", args=[run.pk])
    shown = page(planner, run).content.decode()
    assert "15.78 CNY" in shown
    assert "the outage took 3 days" in shown
    assert 'lang="zh-hans"' in shown
    assert "Waiting for a second admin" in shown
    # the creator is told someone else approves; no approve button for them
    assert "another admin approves it" in shown
    assert reverse("console:compensation_approve", args=[run.pk]) not in shown


@pytest.mark.parametrize("change, field", [
    ({"outage_end": "2026-04-30T00:00"}, "outage_end"),
    ({"outage_end": "not a time"}, "outage_end"),
    ({"remedy": "credit_percent", "percent": "150"}, "percent"),
    ({"remedy": "credit_percent", "percent": "abc"}, "percent"),
    ({"remedy": "credit_fixed", "fixed_amounts": "XYZ 10"}, "fixed_amounts"),
    ({"remedy": "credit_fixed", "fixed_amounts": "CNY 1.234"}, "fixed_amounts"),
    ({"remedy": "credit_fixed", "fixed_amounts": ""}, "fixed_amounts"),
    ({"remedy": "extension", "extension_days": "0"}, "extension_days"),
    ({"remedy": "nothing"}, "remedy"),
    ({"products": ["no-such-product"]}, "products"),
])
def test_bad_input_is_a_form_error_and_creates_nothing(planner, change, field):
    order(1)

    response = planner.post(NEW, {**FORM, **change})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not CompensationRun.objects.exists()


def test_a_form_without_any_selection_or_with_an_outage_not_over_is_refused(planner):
    order(1)
    none_chosen = planner.post(NEW, {**FORM, "products": []})
    not_over = planner.post(NEW, {**FORM, "outage_end": "2099-01-01T00:00"})

    assert none_chosen.status_code == 400 and none_chosen.context["form"].non_field_errors()
    assert not_over.status_code == 400
    assert "cannot be in the future" in not_over.content.decode()
    assert not CompensationRun.objects.exists()


def test_the_creator_cannot_approve_and_a_second_admin_can(planner, approver):
    order(1)
    run = planned_run(planner.user)
    approve = reverse("console:compensation_approve", args=[run.pk])
    seen = page(approver, run).context["stamp"]

    # when the creator posts the approval anyway
    refused = planner.post(approve, {"seen": seen}, follow=True)

    # then it is refused with the reason, and nothing changed
    assert "another admin must approve it" in refused.content.decode()
    assert CompensationRun.objects.get().state == "awaiting_approval"

    # when the second admin approves the dry run they read
    shown = page(approver, run).content.decode()
    assert approve in shown
    approver.post(approve, {"seen": seen})

    # then it is approved, and can be started
    run = CompensationRun.objects.get()
    assert (run.state, run.approved_by) == ("approved", approver.user)
    assert reverse("console:compensation_start", args=[run.pk]) in page(planner,
                                                                        run).content.decode()


def test_a_second_admin_declines_with_a_reason(planner, approver):
    order(1)
    run = planned_run(planner.user)
    decline = reverse("console:compensation_decline", args=[run.pk])

    without = approver.post(decline, {"reason": ""}, follow=True)
    assert "Say why you decline" in without.content.decode()
    approver.post(decline, {"reason": "The window is a day too long."})

    run = CompensationRun.objects.get()
    assert run.state == "declined"
    assert "The window is a day too long." in page(planner, run).content.decode()


def test_start_pause_resume_and_the_progress_bar(planner, approver):
    order(1)
    order(2)
    run = planned_run(planner.user)
    approver.post(reverse("console:compensation_approve", args=[run.pk]),
                  {"seen": page(approver, run).context["stamp"]})

    planner.post(reverse("console:compensation_start", args=[run.pk]))
    assert CompensationRun.objects.get().state == "running"
    progress = planner.get(reverse("console:compensation_run", args=[run.pk]),
                           HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in progress.content.decode()
    assert "0 of 2 customers" in progress.content.decode()

    planner.post(reverse("console:compensation_pause", args=[run.pk]))
    assert CompensationRun.objects.get().state == "paused"
    planner.post(reverse("console:compensation_resume", args=[run.pk]))
    run_compensation.call(run.pk)

    done = planner.get(reverse("console:compensation_run", args=[run.pk]),
                       HTTP_HX_REQUEST="true").content.decode()
    assert "2 of 2 customers, 2 cases opened" in done
    assert "hx-trigger" not in done  # finished: the bar stops polling
    assert RefundCase.objects.filter(channel="bulk").count() == 2
    listing = planner.get(reverse("console:compensation_list")).content.decode()
    assert f"#{run.pk}" in listing and "Finished" in listing


def test_a_step_the_run_is_not_ready_for_is_a_message_not_an_error(planner):
    order(1)
    run = planned_run(planner.user)

    response = planner.post(reverse("console:compensation_start", args=[run.pk]), follow=True)

    assert response.status_code == 200
    assert "cannot do that" in response.content.decode()


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_other_than_admins_are_refused_every_page(db, role):
    client = logged_in(f"{role}-1", role)
    order(1)
    run = planned_run(staff_member("admin-x", "admin"))

    assert client.get(reverse("console:compensation_list")).status_code == 403
    assert client.post(NEW, FORM).status_code == 403
    assert client.post(reverse("console:compensation_approve", args=[run.pk])).status_code == 403
    assert CompensationRun.objects.get().state == "awaiting_approval"
    # and the console's menu does not offer it
    queue = client.get(reverse("console:queue")).content.decode()
    assert f'href="{reverse("console:compensation_list")}"' not in queue


def test_the_admins_menu_links_to_mass_compensation(planner):
    shown = planner.get(reverse("console:compensation_list")).content.decode()
    assert f'href="{reverse("console:compensation_list")}" aria-current="page"' in shown
