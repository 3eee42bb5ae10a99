"""POST /api/v1/compensations and GET /api/v1/compensations/{id}: a merchant's systems see a
dry run or create a run, which waits for a second admin in the console; keys act as the
admin who made them; bad input is a 422 naming the field; nothing is created on refusal."""

import json

import pytest

from refunddesk.api.keys import make_key
from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.compensation import actions
from refunddesk.compensation.models import CompensationRun
from refunddesk.compensation.running import run_compensation
from tests.api.conftest import ApiClient, assert_invalid, error_of
from tests.compensation.builders import LATER, order
from tests.staff import staff_member

URL = "/api/v1/compensations"
BODY = {"selection": {"products": ["cvm"]},
        "outage": {"start": "2026-05-01T02:00:00+08:00", "end": "2026-05-04T02:00:00+08:00"},
        "remedy": {"kind": "refund_time"}, "message_en": "Our region was down."}


def key_of(person, scopes=("decisions:write",)):
    return ApiClient(*make_key(name=f"{person.get_username()} key", scopes=list(scopes),
                               actor=COMMAND_LINE, acting_as=person))


def post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.fixture
def admin(db):
    return staff_member("api-admin", "admin")


@pytest.fixture
def client(admin):
    return key_of(admin)


def test_a_dry_run_answers_the_figures_and_the_sentences_and_stores_nothing(client):
    order(1)
    order(2, currency="USD", paid="120.00")

    response = post(client, {**BODY, "dry_run": True})

    assert response.status_code == 200, response.content
    dry = response.json()["dry_run"]
    assert (dry["customers"], dry["cases"], dry["lines"]) == (2, 2, 2)
    assert dry["totals"] == {"CNY": "7.89", "USD": "0.99"}
    assert "CN¥7.89" in dry["samples"][0]["en"] and "¥7.89" in dry["samples"][0]["zh_hans"]
    assert not CompensationRun.objects.exists()


def test_a_run_created_through_the_api_waits_for_a_second_admin_in_the_console(client, admin):
    order(1)

    response = post(client, BODY)

    # then the run is created, its dry run worked out, waiting for approval
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["source"], body["needs_approval"]) == (
        "awaiting_approval", "api", True)
    assert body["created_by"] == "api-admin"
    assert body["dry_run"]["totals"] == {"CNY": "7.89"}
    run = CompensationRun.objects.get(pk=body["id"])
    # the key's admin cannot approve it; another admin does, in the console's action
    with pytest.raises(actions.NotPermitted):
        actions.approve(run, actor=admin, seen=actions.stamp(run))
    second = staff_member("console-admin", "admin")
    actions.approve(run, actor=second, seen=actions.stamp(run))
    actions.start(run, actor=second, now=LATER)
    run_compensation.call(run.pk)

    # and the API follows it to the end
    followed = client.get(f"{URL}/{run.pk}").json()
    assert (followed["state"], followed["approved_by"]) == ("finished", "console-admin")
    assert followed["progress"]["percent"] == 100
    assert followed["progress"]["totals"] == {"CNY": "7.89"}
    assert followed["progress"]["lines_done"] == 1


def test_the_same_idempotency_key_creates_one_run(client):
    order(1)
    body = json.dumps(BODY)
    first = client.post(URL, body, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="outage-2026-05-01")
    again = client.post(URL, body, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="outage-2026-05-01")

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert CompensationRun.objects.count() == 1


@pytest.mark.parametrize("change, field", [
    ({"outage": {"start": "2026-05-01T02:00:00", "end": "2026-05-04T02:00:00+08:00"}},
     "outage.start"),
    ({"outage": {"start": "2026-05-04T02:00:00+08:00", "end": "2026-05-01T02:00:00+08:00"}},
     "outage.end"),
    ({"outage": {"start": "2026-05-01T02:00:00+08:00", "end": "2099-05-04T02:00:00+08:00"}},
     "outage.end"),
    ({"selection": {}}, "selection"),
    ({"selection": {"products": ["nothing-like-it"]}}, "selection.products"),
    ({"remedy": {"kind": "credit_percent", "percent": "101"}}, "remedy.percent"),
    ({"remedy": {"kind": "credit_percent"}}, "remedy.percent"),
    ({"remedy": {"kind": "credit_fixed", "fixed": {"XXY": "1.00"}}}, "remedy.fixed.XXY"),
    ({"remedy": {"kind": "credit_fixed", "fixed": {"CNY": "1.001"}}}, "remedy.fixed.CNY"),
    ({"remedy": {"kind": "credit_fixed", "fixed": {}}}, "remedy"),
    ({"remedy": {"kind": "extension", "extension_days": 0}}, "remedy.extension_days"),
    ({"remedy": {"kind": "gold"}}, "remedy.kind"),
])
def test_bad_input_is_a_422_naming_the_field_and_creates_nothing(client, change, field):
    order(1)

    assert_invalid(post(client, {**BODY, **change}), field)
    assert not CompensationRun.objects.exists()


def test_a_key_of_someone_who_is_no_admin_or_without_the_scope_is_refused(db):
    order(1)
    reviewer = key_of(staff_member("api-reviewer", "reviewer"))
    admin = staff_member("api-admin-2", "admin")
    without_scope = key_of(admin, scopes=("cases:read", "cases:write"))
    run = actions.dry_run(actions.create_run(
        actions.RunSpec(*_spec_parts()), actor=admin, now=LATER), actor=admin, now=LATER)

    for client in (reviewer, without_scope):
        for response in (post(client, BODY), post(client, {**BODY, "dry_run": True}),
                         client.get(f"{URL}/{run.pk}")):
            assert response.status_code == 403
            assert error_of(response)["code"] in ("not_permitted", "missing_scope")
    assert CompensationRun.objects.count() == 1


def _spec_parts():
    from tests.compensation.builders import spec

    made = spec()
    return made.selection, made.window, made.remedy


def test_an_unknown_run_is_a_404(client):
    response = client.get(f"{URL}/999999")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
