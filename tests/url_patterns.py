"""Every address of the site, read from the URLconf itself, and real values for its path
parameters (tests/test_url_permissions.py).

The list is walked through Django's public API (URLResolver / URLPattern, their `.pattern`,
`.name` and `.namespace`), so a view added tomorrow appears here without anyone writing it
down. Each pattern is put in an area by where it is mounted. Its parameters are filled from
the World: real objects of Alice (a customer), of staff, and of the administration's models.
A parameter nobody taught PARAMETERS, or an admin model without an object in the World, is
reported by `unfillable`, so a new view cannot slip through with a made-up value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import get_converters
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from django.views.generic import RedirectView
from django_tasks_db.models import DBTaskResult

from refunddesk.api.keys import make_key
from refunddesk.api.models import Scope
from refunddesk.billing.models import BalanceEntry, Product, Usage
from refunddesk.calendars import actions as calendar_actions
from refunddesk.calendars.date_lists import parse_date_list
from refunddesk.calendars.models import CalendarDay
from refunddesk.cases import actions
from refunddesk.cases.models import ReasonCategory
from refunddesk.compensation import actions as compensation_actions
from refunddesk.compensation.remedies import Remedy, Window
from refunddesk.compensation.selection import Selection
from refunddesk.console.saved_views import save as save_queue_view
from refunddesk.core.role_changes import change_roles
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.telling import tell
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store
from refunddesk.notifications.models import EmailDelivery
from refunddesk.notifications.webhook_events import emit
from refunddesk.payouts.reconcile import import_settlement
from refunddesk.policies import actions as policy_actions
from refunddesk.policies import publishing as policy_publishing
from refunddesk.policies.lab import change_of as lab_change_of
from refunddesk.policies.lab import request_simulation, run_simulation
from refunddesk.policies.models import PolicySimulation
from refunddesk.policy.presets import PRESETS_DIR
from refunddesk.policy.schema import policy_from_toml
from refunddesk.replies.editing import save_reply
from refunddesk.reports.exports import build_export, request_export
from refunddesk.reports.models import Export
from tests.console.case_builders import reviewed_case
from tests.console.conftest import with_totp
from tests.notifications.webhook_receiver import subscribe
from tests.payouts.settlement_builders import (
    failed_payout,
    row_for,
    settlement_csv,
    succeeded_payout,
)
from tests.portal.builders import customer_for, pdf, subscription_for, vpn_order
from tests.staff import approval_limit, rejection_reason, staff_member

# Where each area is mounted (the first path segment of the route).
AREAS = {"admin/": "admin", "console/": "console", "api/v1/": "api", "accounts/": "accounts",
         "i18n/": "i18n"}


@dataclass(frozen=True)
class Address:
    """One URL pattern as mounted: its full route and name, and the parameters it takes."""

    route: str                    # the full route, e.g. "console/cases/<str:tracking_number>"
    namespace: str | None         # "console"
    name: str | None              # "console:case"; None for an unnamed pattern
    params: tuple[tuple[str, str], ...]   # (parameter name, converter or "regex")
    pattern: URLPattern

    @property
    def id(self) -> str:
        """What pytest prints: the URL name, or the route of an unnamed pattern."""
        if self.name:
            return self.name
        return f"{self.namespace + ':' if self.namespace else ''}<unnamed {self.route}>"

    @property
    def area(self) -> str:
        for prefix, area in AREAS.items():
            if self.route.startswith(prefix):
                return area
        return "portal" if (self.name or "").startswith("portal:") else "site"

    @property
    def is_redirect_only(self) -> bool:
        """A RedirectView (like the admin's `<object_id>/` → `<object_id>/change/`): it only
        rewrites the address, the page it sends to decides who gets in."""
        view_class = getattr(self.pattern.callback, "view_class", None)
        return isinstance(view_class, type) and issubclass(view_class, RedirectView)

    def url(self, values: dict[str, Any]) -> str:
        """The concrete URL with `values` for its parameters, checked to resolve back to this
        very pattern (so the test requests the view it names)."""
        kwargs = {name: values[name] for name, _ in self.params}
        url = reverse(self.name, kwargs=kwargs) if self.name else "/" + _fill(self.route, kwargs)
        match = resolve(url.split("?")[0])
        # django-ninja mounts one pattern per operation name for the same path, all answered
        # by the path's one view: a twin with the very same route is the same view.
        assert match.func is self.pattern.callback or match.route == self.route, (
            f"{url} resolves to {match.view_name or match.func}, not to {self.id}: another "
            "pattern shadows it, or the values do not fit its converters")
        return url


def _params(pattern: Any) -> list[tuple[str, str]]:
    if isinstance(pattern, RoutePattern):
        # Named as a route writes them ("str", "int", "slug", "path", or a registered one).
        names = {type(converter): name for name, converter in get_converters().items()}
        return [(name, names.get(type(converter), type(converter).__name__))
                for name, converter in pattern.converters.items()]
    if isinstance(pattern, RegexPattern):
        return [(name, "regex") for name in pattern.regex.groupindex]
    raise TypeError(f"unknown kind of URL pattern: {pattern!r}")


def _fill(route: str, kwargs: dict[str, Any]) -> str:
    """Put values into a route made of `<conv:name>` parts and simple `(?P<name>…)` groups
    (only unnamed patterns come here; reverse() fills the named ones)."""
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)
    route = re.sub(r"\(\?P<(\w+)>[^()]*\)", lambda m: str(kwargs[m.group(1)]), route)
    return route.replace("^", "").replace("$", "")


def _walk(patterns: list[Any], prefix: str, namespace: str | None,
          params: tuple[tuple[str, str], ...]) -> Iterator[Address]:
    for entry in patterns:
        here = params + tuple(_params(entry.pattern))
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner, here)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield Address(prefix + str(entry.pattern), namespace, name, here, entry)
        else:  # pragma: no cover — Django has only these two
            raise TypeError(f"unknown URLconf entry: {entry!r}")


def every_address() -> list[Address]:
    """Every URL pattern of the site, in URLconf order."""
    return list(_walk(get_resolver().url_patterns, "", None, ()))


def admin_model(address: Address) -> str | None:
    """The model an admin page is about ("cases.refundcase"), from its ModelAdmin; None for
    the site-wide pages."""
    if address.namespace != "admin":
        return None
    # ModelAdmin.get_urls() marks its views with `model_admin`; UserAdmin's password page
    # is wrapped by admin_view() only, which keeps the bound method as __wrapped__.
    callback = address.pattern.callback
    model_admin = getattr(callback, "model_admin", None) or getattr(
        getattr(callback, "__wrapped__", None), "__self__", None)
    model = getattr(model_admin, "model", None)
    return None if model is None else model._meta.label_lower


# -- the world: Alice's things, staff's things, Bob -------------------------------------------

@dataclass
class World:
    alice: Any
    account: Any
    order: Any
    case: Any
    document: Any
    subscription: Any
    bob: Any
    bob_case: Any
    staff: Any
    member: Any
    payout: Any
    settlement: Any
    api_key: Any
    endpoint: Any
    delivery: Any
    draft: Any
    proposed: Any             # a policy version proposed for publication, waiting for approval
    calendar_day: Any         # a day an admin keeps in CN's calendar (2027, entered)
    notice: Any               # a staff member's inbox notice about Alice's case
    reply: Any                # a canned reply admins keep
    mail: Any                 # an e-mail from a stranger, waiting in triage
    saved_view: Any           # a queue view another staff member saved
    export: Any               # a staff member's finished export, with its file
    simulation: Any           # a finished policy simulation in which Alice's case changes
    compensation_run: Any     # an admin's mass compensation run, waiting for approval
    objects: dict[str, Any]   # one object of every model the administration shows

    def markers(self) -> list[str]:
        """Text on any page that would show Alice's things."""
        return [self.case.tracking_number, self.order.external_id, self.account.external_id,
                self.account.email, self.subscription.external_id]


def build_world() -> World:
    """Alice's, Bob's and staff's things, made through the real actions and builders."""
    # Alice: a case in review with a document, on an order with usage, and a subscription.
    case = reviewed_case("TC-ALICE-0001", uploads=(pdf(),), usage=True)
    account = case.account
    alice = account.user
    subscription = subscription_for(account, external_id="SUB-ALICE-1")
    BalanceEntry.objects.create(account=account, currency="CNY", amount_minor=500,
                                kind="top_up", reference="url-permissions-top-up",
                                created_at=timezone.now())
    # Bob: another customer, with an order and a case of his own.
    bob_order = vpn_order("VPN-BOB-1", "acct-bob", "bob@example.com")
    bob = customer_for(bob_order.account)
    bob_case = actions.submit(account=bob_order.account, order=bob_order, line_ids=["1"],
                              actor=bob, channel="portal", language="en")

    staff = staff_member("url-admin", "admin")
    with_totp(staff)
    # A staff member whose roles an admin changed once (the audit row the admin shows).
    member = staff_member("url-agent", "agent")
    role_change = change_roles(member, ["agent", "reviewer"], actor=staff, source="console")
    payout = failed_payout("VPN-expired_card-URL")
    settlement = import_settlement(settlement_csv([row_for(succeeded_payout("VPN-PAID-URL"))]),
                                   gateway="sandbox",
                                   actor=staff_member("url-finance", "finance"))
    api_key, _ = make_key(name="merchant console", scopes=list(Scope.values), actor=staff)
    endpoint = subscribe("http://127.0.0.1:9/hooks", ["case.submitted"])
    [delivery] = emit("case.submitted", {"case": {"tracking_number": case.tracking_number}})
    preset = (PRESETS_DIR / "tencent-cloud.toml").read_text(encoding="utf-8")
    draft = policy_actions.save_draft(
        "tencent-cloud", preset.replace("version = 1", "version = 2", 1), actor=staff)
    proposed = policy_publishing.propose_publication(policy_actions.save_draft(
        "tencent-cloud", preset.replace("version = 1", "version = 3", 1), actor=staff),
        actor=staff)
    # An example schedule (not the official one) imported for CN's 2027: a kept day and an
    # entered year for the calendar pages.
    calendar_actions.import_year("CN", 2027, parse_date_list(
        "2027-01-01 holiday 元旦\n2027-02-06 holiday 春节", year=2027).days, actor=staff)
    calendar_day = CalendarDay.objects.get(country="CN", day="2027-01-01")
    [notice] = tell([member], NoticeKind.ASSIGNED, case=case, now=timezone.now(),
                    data={"by": staff.get_username()})
    reply = save_reply(None, title="Amount", text_zh="{amount}", text_en="{amount}",
                       actor=staff)
    mail, _ = store(b"From: stranger@example.org\r\nSubject: hello\r\n"
                    b"Message-ID: <url-world@example.org>\r\n\r\nHello\r\n", source="pipe")
    mail = process(mail)
    saved_view = save_queue_view(member, "My overdue CNY", "sla=overdue&currency=CNY")
    export = finished_export(staff)
    simulation = finished_simulation(staff, case)
    compensation_run = compensation_actions.dry_run(compensation_actions.create_run(
        compensation_actions.RunSpec(Selection(products=("cvm",)), Window(
            timezone.now() - timedelta(days=2), timezone.now() - timedelta(days=1)),
            Remedy("refund_time")), actor=staff), actor=staff)

    if not ReasonCategory.objects.exists():
        ReasonCategory.objects.create(code="changed_mind", name_zh="不想要了",
                                      name_en="Changed my mind")
    objects: dict[str, Any] = {
        "auth.group": Group.objects.get(name="agent"),
        "auth.user": alice,
        "billing.account": account,
        "billing.product": Product.objects.get(code="cvm"),
        "billing.order": case.order,
        "billing.usage": Usage.objects.filter(line__order=case.order).first(),
        "billing.subscription": subscription,
        "billing.balanceentry": account.balance_entries.first(),
        "cases.reasoncategory": ReasonCategory.objects.first(),
        "cases.rejectionreason": rejection_reason(),
        "cases.approvallimit": approval_limit("reviewer", "CNY", 1000_00),
        "cases.refundcase": case,
        "notifications.emaildelivery": EmailDelivery.objects.filter(case=case).first(),
        "policies.policyversion": draft,
        "policies.policychange": draft.changes.first(),  # "draft saved"
        "payouts.payout": payout,
        "account.emailaddress": EmailAddress.objects.get(user=alice),
        "mfa.authenticator": Authenticator.objects.get(user=staff),
        "django_tasks_database.dbtaskresult": DBTaskResult.objects.first(),
        "core.staffrolechange": role_change,
        "reports.export": export,
        "compensation.compensationrun": compensation_run,
    }
    assert set(objects) == ADMIN_OBJECT_MODELS
    missing = sorted(label for label, found in objects.items() if found is None)
    assert not missing, f"the world built no {missing}: build one of each"
    return World(alice=alice, account=account, order=case.order, case=case,
                 document=case.documents.get(), subscription=subscription, bob=bob,
                 bob_case=bob_case, staff=staff, member=member, payout=payout,
                 settlement=settlement, api_key=api_key, endpoint=endpoint,
                 delivery=delivery, draft=draft, proposed=proposed,
                 calendar_day=calendar_day, reply=reply, mail=mail,
                 saved_view=saved_view, notice=notice, export=export,
                 simulation=simulation, compensation_run=compensation_run,
                 objects=objects)


def finished_export(owner: Any) -> Export:
    """An export of the queue's cases, built by its task as the worker would."""
    made = request_export("cases", {"query": {}, "tz": "UTC"}, "csv", actor=owner,
                          language="en")
    build_export.call(made.pk)
    made.refresh_from_db()
    return made


def finished_simulation(admin: Any, case: Any) -> PolicySimulation:
    """A simulation of a Tencent Cloud version whose refund window is ten years, over the
    day of Alice's case (which it changes), run by its task as the worker would."""
    preset = (PRESETS_DIR / "tencent-cloud.toml").read_text(encoding="utf-8")
    text = preset.replace("version = 1", "version = 3", 1).replace(
        'length = "5d"', 'length = "3650d"', 1)
    day = timezone.localdate(case.submitted_at)
    made = request_simulation(policy_from_toml(text), text, start=day, end=day,
                              tz=timezone.get_current_timezone(), product="", actor=admin)
    run_simulation.call(made.pk)
    made.refresh_from_db()
    assert lab_change_of(made, case.pk) is not None, "Alice's case should change"
    return made


# -- filling path parameters ------------------------------------------------------------------

# parameter name → (the converters it may come with, its value in the world)
PARAMETERS: dict[str, tuple[set[str], Callable[[World], Any]]] = {
    # the portal and the console: Alice's things
    "tracking_number": ({"str"}, lambda w: w.case.tracking_number),
    "document_id": ({"int"}, lambda w: w.document.pk),
    "order_id": ({"str"}, lambda w: w.order.external_id),
    "subscription_id": ({"str"}, lambda w: w.subscription.external_id),
    "account_id": ({"str"}, lambda w: w.account.external_id),
    # the console: staff's things
    "code": ({"slug"}, lambda w: w.objects["billing.product"].code),
    "policy_id": ({"slug"}, lambda w: w.draft.policy_id),
    "version": ({"int"}, lambda w: w.draft.version),
    "payout_id": ({"int"}, lambda w: w.payout.pk),
    "settlement_id": ({"int"}, lambda w: w.settlement.pk),
    "key_id": ({"int"}, lambda w: w.api_key.pk),
    "endpoint_id": ({"int"}, lambda w: w.endpoint.pk),
    "delivery_id": ({"int"}, lambda w: w.delivery.pk),
    "user_id": ({"int"}, lambda w: w.member.pk),  # a staff member (console: their roles)
    "country": ({"str"}, lambda w: w.calendar_day.country),  # a business calendar
    "day_id": ({"int"}, lambda w: w.calendar_day.pk),
    "notice_id": ({"int"}, lambda w: w.notice.pk),  # a staff member's inbox notice
    "year": ({"int"}, lambda w: w.calendar_day.day.year),  # an entered year of it
    "reply_id": ({"int"}, lambda w: w.reply.pk),  # a canned reply
    "mail_id": ({"int"}, lambda w: w.mail.pk),  # an e-mail in triage
    "view_id": ({"int"}, lambda w: w.saved_view.pk),  # someone else's saved queue view
    "export_id": ({"int"}, lambda w: w.export.pk),  # a staff member's export
    "simulation_id": ({"int"}, lambda w: w.simulation.pk),  # a policy simulation
    "case_id": ({"int"}, lambda w: w.case.pk),  # Alice's case, changed by the simulation
    "table": ({"slug"}, lambda w: "volume"),  # a report table
    "format": ({"slug"}, lambda w: "csv"),  # an export's format
    # a mass compensation run (console: <int>, API: its path parameter)
    "run_id": ({"int", "str"}, lambda w: w.compensation_run.pk),
    # the administration's site-wide pages (its model pages: see ADMIN_OBJECT_MODELS)
    "app_label": ({"regex"}, lambda w: "cases"),
    "url": ({"regex"}, lambda w: "cases/no-such-page/"),
    # the REST API: Alice's things
    "number": ({"str"}, lambda w: w.case.tracking_number),
    "account": ({"str"}, lambda w: w.account.external_id),
    "order": ({"str"}, lambda w: w.order.external_id),
    "subscription": ({"str"}, lambda w: w.subscription.external_id),
}

# Values for one pattern only, where a parameter's name says too little.
FOR_PATTERN: dict[str, dict[str, Callable[[World], Any]]] = {
    # the steps of a proposal: a version waiting for a second admin, so a view that forgot
    # to refuse would act on it
    **{f"console:policy_{step}": {"version": lambda w: w.proposed.version}
       for step in ("review", "approve", "decline", "withdraw")},
    # "view on site" of Alice's case
    "admin:view_on_site": {
        "content_type_id": lambda w: ContentType.objects.get_for_model(w.case).pk,
        "object_id": lambda w: w.case.pk,
    },
}

# The pages of an admin model take the primary key of one of its objects ("object_id"; the
# user's password page calls it "id"): World.objects[model], one object of every model the
# administration shows.
ADMIN_OBJECT_PARAMETERS = {"object_id", "id"}
ADMIN_OBJECT_MODELS = {
    "auth.group", "auth.user", "billing.account", "billing.product", "billing.order",
    "billing.usage", "billing.subscription", "billing.balanceentry", "cases.reasoncategory",
    "cases.rejectionreason", "cases.approvallimit", "cases.refundcase",
    "notifications.emaildelivery", "policies.policyversion", "policies.policychange",
    "payouts.payout",
    "account.emailaddress", "mfa.authenticator", "django_tasks_database.dbtaskresult",
    "core.staffrolechange", "reports.export", "compensation.compensationrun",
}


def unfillable(address: Address) -> list[str]:
    """What the test cannot fill for this address, as sentences (none: it can)."""
    problems = []
    model = admin_model(address)
    for name, converter in address.params:
        if name in FOR_PATTERN.get(address.id, {}):
            continue
        if model and name in ADMIN_OBJECT_PARAMETERS:
            if model not in ADMIN_OBJECT_MODELS:
                problems.append(f"{address.id}: the administration shows {model}, but the "
                                f"world has no object of it: build one in build_world() and "
                                f"add it to ADMIN_OBJECT_MODELS")
        elif name not in PARAMETERS:
            problems.append(f"{address.id}: parameter <{converter}:{name}> is new: teach "
                            f"PARAMETERS (or FOR_PATTERN) a real value for it, an object "
                            f"of someone else")
        elif converter not in PARAMETERS[name][0]:
            problems.append(f"{address.id}: parameter {name} comes as <{converter}>, not "
                            f"{sorted(PARAMETERS[name][0])}: check its value still fits")
    return problems


def url_of(address: Address, world: World) -> str:
    """The address filled with real values from the world."""
    problems = unfillable(address)
    assert not problems, "\n".join(problems)
    model = admin_model(address)
    values = {}
    for name, _ in address.params:
        if name in FOR_PATTERN.get(address.id, {}):
            values[name] = FOR_PATTERN[address.id][name](world)
        elif model and name in ADMIN_OBJECT_PARAMETERS:
            values[name] = world.objects[model].pk
        else:
            values[name] = PARAMETERS[name][1](world)
    return address.url(values)
