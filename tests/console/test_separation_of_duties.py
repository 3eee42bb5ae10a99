"""Duties stay apart everywhere, the administration included: the admin configures,
finance pays, agents and reviewers decide; nobody changes their own roles; every change of
roles is recorded and the other admins are told; superuser status gives no business
power."""

import copy

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import translation

from refunddesk.cases import actions
from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.core.models import StaffRoleChange
from refunddesk.core.role_changes import change_roles
from refunddesk.core.roles import roles_of
from refunddesk.notifications.models import EmailDelivery
from refunddesk.payouts.permissions import can_manage
from tests.cases.conftest import import_order
from tests.cases.decision_builders import case_in_review
from tests.conftest import EXAMPLE_ORDER
from tests.console.conftest import with_totp

pytestmark = pytest.mark.django_db

User = get_user_model()


def admin_form(user, **changes):
    """What the administration's change form posts for `user`, with `changes`."""
    data = {"username": user.username, "first_name": user.first_name,
            "last_name": user.last_name, "email": user.email, "is_active": "on"}
    data.update(changes)
    return data


def fresh(user):
    return User.objects.get(pk=user.pk)


def test_an_admin_cannot_make_themselves_superuser_in_the_administration(staff_client):
    # given an admin, who may not see payouts
    client = staff_client("admin", "admin-self")
    admin = client.user
    assert client.get("/console/payouts/").status_code == 403

    # when they tick superuser and staff status on their own account and save
    response = client.post(f"/admin/auth/user/{admin.pk}/change/",
                           admin_form(admin, is_superuser="on", is_staff="on"))

    # then superuser status stays off (the fields are not on their form at all)
    assert response.status_code == 302
    assert fresh(admin).is_superuser is False
    assert client.get("/console/payouts/").status_code == 403


def test_an_admin_cannot_give_themselves_the_finance_role_in_the_administration(
        staff_client):
    client = staff_client("admin", "admin-finance")
    admin = client.user
    from django.contrib.auth.models import Group

    finance = Group.objects.get(name="finance")

    client.post(f"/admin/auth/user/{admin.pk}/change/",
                admin_form(admin, groups=[str(finance.pk)]))

    assert roles_of(fresh(admin)) == ["admin"]
    assert client.get("/console/payouts/").status_code == 403


def test_the_administration_shows_an_admin_no_roles_powers_or_superuser_fields(staff_client,
                                                                              make_staff):
    client = staff_client("admin", "admin-fields")
    agent = make_staff("agent", "agent-fields")

    page = client.get(f"/admin/auth/user/{agent.pk}/change/").content.decode()

    for field in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{field}"' not in page


def test_an_admin_cannot_give_someone_else_roles_through_the_administration_form(
        staff_client, make_staff):
    client = staff_client("admin", "admin-other")
    agent = make_staff("agent", "agent-other")
    from django.contrib.auth.models import Group

    reviewer = Group.objects.get(name="reviewer")

    client.post(f"/admin/auth/user/{agent.pk}/change/",
                admin_form(agent, groups=[str(reviewer.pk)], is_superuser="on"))

    assert roles_of(fresh(agent)) == ["agent"]
    assert fresh(agent).is_superuser is False


def test_an_admin_cannot_see_or_change_a_superusers_account(staff_client):
    client = staff_client("admin", "admin-root")
    root = User.objects.create_superuser("the-superuser", "root@example.com",
                                         "root-password-2026")

    assert client.get(f"/admin/auth/user/{root.pk}/change/").status_code in (302, 404)
    client.post(f"/admin/auth/user/{root.pk}/password/",
                {"password1": "taken-over-2026!", "password2": "taken-over-2026!"})
    assert fresh(root).check_password("root-password-2026")
    assert "the-superuser" not in client.get("/admin/auth/user/").content.decode()


def test_groups_are_edited_by_superusers_only(staff_client):
    client = staff_client("admin", "admin-groups")

    assert client.get("/admin/auth/group/").status_code == 403
    assert client.get("/admin/auth/group/add/").status_code == 403


def test_superuser_status_alone_neither_decides_nor_pays(db):
    # given a superuser with no role, and a case in review
    root = User.objects.create_superuser("root-decides", "r@example.com", "pw-2026-root")
    case = case_in_review(import_order(copy.deepcopy(EXAMPLE_ORDER)))

    # then the actions refuse them, and finance's pages do too
    with pytest.raises(actions.NotPermitted):
        actions.approve(case, actor=root)
    assert can_manage(root) is False


def test_a_superuser_changes_roles_in_the_administration_and_it_is_recorded(client,
                                                                         make_staff):
    # given a superuser (with a second factor) and an agent, and another admin to be told
    root = User.objects.create_superuser("root-admin", "root@example.com", "pw-root-2026")
    with_totp(root)
    other_admin = make_staff("admin", "admin-told")
    agent = make_staff("agent", "agent-promoted")
    client.force_login(root)
    from django.contrib.auth.models import Group

    groups = [str(Group.objects.get(name=name).pk) for name in ("agent", "reviewer")]

    # when the superuser gives the agent the reviewer role in the administration
    response = client.post(f"/admin/auth/user/{agent.pk}/change/",
                           admin_form(agent, groups=groups, is_staff="on"))

    # then it is done through the audited change, and the other admin is told
    assert response.status_code == 302
    assert roles_of(fresh(agent)) == ["agent", "reviewer"]
    change = StaffRoleChange.objects.get(member=agent)
    assert (change.changed_by, change.source, change.roles_before, change.roles_after) == (
        root, "admin", ["agent"], ["agent", "reviewer"])
    assert sorted(EmailDelivery.objects.filter(role_change=change)
                  .values_list("to_address", flat=True)) == sorted([other_admin.email,
                                                                    agent.email])


def test_a_superuser_cannot_change_their_own_roles_either(client):
    root = User.objects.create_superuser("root-own", "root@example.com", "pw-root-2026")
    with_totp(root)
    client.force_login(root)
    from django.contrib.auth.models import Group

    finance = Group.objects.get(name="finance")
    client.post(f"/admin/auth/user/{root.pk}/change/",
                admin_form(root, groups=[str(finance.pk)], is_staff="on", is_superuser="on"))

    assert roles_of(fresh(root)) == []
    with translation.override("en"), pytest.raises(actions.NotPermitted, match="own roles"):
        change_roles(root, ["finance"], actor=root, source="console")


def test_an_admin_changes_a_colleagues_roles_on_the_staff_page(staff_client, make_staff,
                                                              mailoutbox):
    # given an admin, another admin, and an agent
    client = staff_client("admin", "admin-console")
    other_admin = make_staff("admin", "admin-second")
    agent = make_staff("agent", "agent-console")
    assert agent.username in client.get("/console/staff/").content.decode()

    # when the admin gives the agent the reviewer role
    response = client.post(f"/console/staff/{agent.pk}/roles/",
                           {"roles": ["agent", "reviewer"]})

    # then it is done, recorded, shown on the page, and the other admin and the member
    # (not the one who made it) are e-mailed
    assert response.status_code == 302
    assert roles_of(fresh(agent)) == ["agent", "reviewer"]
    change = StaffRoleChange.objects.get(member=agent)
    assert change.changed_by == client.user
    deliveries = EmailDelivery.objects.filter(role_change=change)
    assert sorted(d.to_address for d in deliveries) == sorted([other_admin.email,
                                                               agent.email])
    page = client.get("/console/staff/").content.decode()
    assert "agent-console" in page and "admin-console" in page


def test_the_staff_page_refuses_an_admins_own_roles(staff_client):
    client = staff_client("admin", "admin-me")

    response = client.post(f"/console/staff/{client.user.pk}/roles/",
                           {"roles": ["admin", "finance"]}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "own roles" in response.content.decode()
    assert roles_of(fresh(client.user)) == ["admin"]
    assert not StaffRoleChange.objects.exists()


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_only_admins_open_the_staff_page(staff_client, role, make_staff):
    client = staff_client(role)
    agent = make_staff("agent", "agent-x")

    assert client.get("/console/staff/").status_code == 403
    assert client.post(f"/console/staff/{agent.pk}/roles/",
                       {"roles": ["admin"]}).status_code == 403
    assert roles_of(fresh(agent)) == ["agent"]


def test_taking_every_role_away_ends_staff_status(staff_client, make_staff):
    client = staff_client("admin", "admin-off")
    agent = make_staff("agent", "agent-leaving")

    client.post(f"/console/staff/{agent.pk}/roles/", {"roles": []})

    assert (roles_of(fresh(agent)), fresh(agent).is_staff) == ([], False)


def test_an_unknown_role_is_refused_and_changes_nothing(staff_client, make_staff):
    client = staff_client("admin", "admin-typo")
    agent = make_staff("agent", "agent-typo")

    response = client.post(f"/console/staff/{agent.pk}/roles/", {"roles": ["superhero"]})

    assert response.status_code == 400
    assert roles_of(fresh(agent)) == ["agent"]


def test_the_command_line_sets_roles_and_it_is_recorded(make_staff, capsys):
    user = User.objects.create_user("new-admin", "new@example.com", "pw-new-2026")

    call_command("set_roles", "new-admin", "admin")

    assert (roles_of(fresh(user)), fresh(user).is_staff) == (["admin"], True)
    change = StaffRoleChange.objects.get(member=user)
    assert (change.changed_by, change.source) == (None, "command_line")
    assert change_roles(user, ["admin"], actor=COMMAND_LINE, source="command_line") is None


def test_the_mail_to_the_other_admins_says_who_changed_which_roles(make_staff):
    from django.utils import translation

    from refunddesk.notifications.compose import compose

    make_staff("admin", "admin-reader")
    changer = make_staff("admin", "admin-changer")
    agent = make_staff("agent", "agent-mailed")
    change = change_roles(agent, ["agent", "finance"], actor=changer, source="console")
    delivery = EmailDelivery.objects.filter(role_change=change).first()
    delivery.language = "en"

    subject, text, _html = compose(delivery)

    assert subject == "Roles of agent-mailed changed"
    assert "admin-changer changed the roles of agent-mailed in the console" in text
    assert "Before: agent." in text and "Now: agent, finance." in text
    with translation.override("en"):
        assert "Tracking number" not in text


def test_not_even_a_superuser_makes_a_superuser_in_the_administration(client, make_staff):
    root = User.objects.create_superuser("root-maker", "root@example.com", "pw-root-2026")
    with_totp(root)
    agent = make_staff("agent", "agent-not-root")
    client.force_login(root)

    client.post(f"/admin/auth/user/{agent.pk}/change/",
                admin_form(agent, is_superuser="on", is_staff="on"))

    assert fresh(agent).is_superuser is False


def test_the_worker_sends_the_mail_about_changed_roles(make_staff, mailoutbox):
    from refunddesk.notifications.sending import send_waiting

    reader = make_staff("admin", "admin-inbox")
    changer = make_staff("admin", "admin-sender")
    agent = make_staff("agent", "agent-sent")
    change = change_roles(agent, ["reviewer"], actor=changer, source="console")
    delivery = EmailDelivery.objects.get(role_change=change, to_address=reader.email)

    send_waiting()

    delivery.refresh_from_db()
    assert delivery.status == "sent"
    [message] = [message for message in mailoutbox if message.to == [reader.email]]
    assert "agent-sent" in message.subject


def test_the_watchers_are_the_admins_before_the_change_the_superusers_and_the_member(
        make_staff):
    # given two admins, a superuser, and an admin about to lose the role
    changer = make_staff("admin", "admin-changer-2")
    leaving = make_staff("admin", "admin-leaving")
    root = User.objects.create_superuser("root-watch", "root-watch@example.com", "pw-2026-r")

    change = change_roles(leaving, [], actor=changer, source="console")

    told = sorted(EmailDelivery.objects.filter(role_change=change)
                  .values_list("to_address", flat=True))
    assert told == sorted([leaving.email, root.email])


def test_an_admin_cannot_change_a_colleagues_e_mail_password_or_status(staff_client,
                                                                       make_staff):
    # given an admin and another admin (who would be told of role changes)
    client = staff_client("admin", "admin-silencer")
    other = make_staff("admin", "admin-silenced")

    # when the first points the other's e-mail at themselves, or switches them off
    client.post(f"/admin/auth/user/{other.pk}/change/",
                admin_form(other, email="silencer@example.com", is_active=""))
    client.post(f"/admin/auth/user/{other.pk}/password/",
                {"password1": "taken-over-2026!", "password2": "taken-over-2026!"})

    # then nothing changed
    assert (fresh(other).email, fresh(other).is_active) == (other.email, True)
    assert fresh(other).check_password("admin-silenced-password-2026")


def test_an_admin_still_edits_a_customers_login(staff_client):
    client = staff_client("admin", "admin-customers")
    customer = User.objects.create_user("li.lei@example.com", "li.lei@example.com", "pw-cust")

    client.post(f"/admin/auth/user/{customer.pk}/change/",
                admin_form(customer, first_name="Lei"))

    assert fresh(customer).first_name == "Lei"


def test_the_role_groups_permissions_are_not_editable_even_by_a_superuser(client):
    from django.contrib.auth.models import Group, Permission

    root = User.objects.create_superuser("root-groups", "root@example.com", "pw-root-2026")
    with_totp(root)
    client.force_login(root)
    admin_group = Group.objects.get(name="admin")
    before = set(admin_group.permissions.values_list("pk", flat=True))
    manage = Permission.objects.get(codename="manage_payouts")

    client.post(f"/admin/auth/group/{admin_group.pk}/change/",
                {"name": "admin", "permissions": [str(manage.pk)]})

    assert set(admin_group.permissions.values_list("pk", flat=True)) == before
    assert client.post(f"/admin/auth/group/{admin_group.pk}/delete/",
                       {"post": "yes"}).status_code == 403


def test_staff_without_a_second_factor_are_sent_to_set_one_up_before_the_administration(
        client):
    root = User.objects.create_superuser("root-no-totp", "root@example.com", "pw-root-2026")
    client.force_login(root)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert "totp" in response["Location"]


def test_the_billing_mirror_is_read_only_in_the_administration_for_superusers_too(client):
    # given a superuser, and an order with its account in the billing mirror
    root = User.objects.create_superuser("root-billing", "root@example.com", "pw-root-2026")
    with_totp(root)
    client.force_login(root)
    order = import_order(copy.deepcopy(EXAMPLE_ORDER))

    # then nobody adds balance credit, re-links an account's login or edits an order here
    assert client.get("/admin/billing/balanceentry/add/").status_code == 403
    client.post(f"/admin/billing/account/{order.account.pk}/change/",
                {"user": str(root.pk), "email": "x@example.com"})
    order.account.refresh_from_db()
    assert (order.account.user_id, order.account.email) == (None, "li.lei@example.com")
    page = client.get(f"/admin/billing/order/{order.pk}/change/").content.decode()
    assert 'name="lines-0-amount_paid_minor"' not in page
