"""The admin's policies pages: the policies and their versions, a version's text with a
dry-run quote and its history, the TOML editor that saves drafts, and the policy of each
product (publishing with a second admin's approval, and comparing versions, are in
policy_governance.py). Every change goes through refunddesk.policies.actions, which checks
the role again; these views only decide who sees which page."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refunddesk.billing.models import Product
from refunddesk.cases.errors import NotPermitted
from refunddesk.console.access import console_view
from refunddesk.policies import actions, permissions
from refunddesk.policies.dryrun import DryRunError, dry_run, find_order, parse_line_ids
from refunddesk.policies.forms import DryRunForm, EditorForm
from refunddesk.policies.history import history_of
from refunddesk.policies.models import PolicyVersion
from refunddesk.policies.overview import (
    VersionEntry,
    find_version,
    name_of,
    overview,
    policy_entry,
    starting_text,
)
from refunddesk.policies.problems import Problem, locate_all
from refunddesk.policies.store import current_policy, known_policy_ids
from refunddesk.policy.presets import load_preset, preset_ids
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

# The id the new-policy editor suggests, in the form and in the file alike.
NEW_POLICY_ID = "my-policy"

ADMINS_ONLY = gettext_lazy("Refund policies are managed by admins.")

viewer = console_view(check=permissions.can_view, message=ADMINS_ONLY)
writer = console_view(check=permissions.can_write,
                      message=gettext_lazy("Only an admin writes refund policy versions."))
assigner = console_view(check=permissions.can_assign,
                        message=gettext_lazy("Only an admin chooses the refund policy of a "
                                             "product."))


def _language() -> str:
    return translation.get_language() or "en"


def _can(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {"can_write": permissions.can_write(user),
            "can_publish": permissions.can_publish(user),
            "can_assign": permissions.can_assign(user)}


def _product_rows() -> list[dict[str, Any]]:
    language = _language()
    known = set(known_policy_ids(at=timezone.now()))
    return [{"product": product, "name": product.name_for(language),
             "is_known": product.policy_id in known}
            for product in Product.objects.order_by("code")]


@require_GET
@viewer
def policies(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    entries = overview(_language(), at=now)
    return render(request, "console/policies/list.html", {
        "policies": entries, "products": _product_rows(),
        "choices": known_policy_ids(at=now), **_can(request)})


def _version_or_404(policy_id: str, version: int) -> VersionEntry:
    entry = find_version(policy_id, version, at=timezone.now())
    if entry is None:
        raise Http404(_("There is no version %(version)s of policy %(policy)s.")
                      % {"version": version, "policy": policy_id})
    return entry


def _parsed(entry: VersionEntry) -> tuple[Any, list[Problem]]:
    """The version's policy, or the problems that keep it from being one."""
    text = entry.source()
    try:
        return policy_from_toml(text), []
    except PolicyError as error:
        return None, locate_all(error.problems, text)


def _quote(request: HttpRequest, entry: VersionEntry, policy: Any) -> dict[str, Any]:
    """The dry-run form, and its quote when an order was given."""
    if "order" not in request.GET or policy is None:
        return {"dry_run_form": DryRunForm()}
    form = DryRunForm(request.GET)
    context: dict[str, Any] = {"dry_run_form": form}
    if not form.is_valid():
        return context
    as_of = form.cleaned_data["as_of"] or timezone.now()
    try:
        order = find_order(form.cleaned_data["order"])
        line_ids = parse_line_ids(form.cleaned_data["lines"])
        context["quote"] = dry_run(policy, order, line_ids, as_of=as_of)
    except DryRunError as error:
        context["quote_problem"] = str(error)
        return context
    # Beside the version looked at: what the version in force at that moment gives.
    try:
        current = current_policy(entry.policy_id, at=as_of)
    except PolicyError:
        return context  # a new policy: nothing in force yet
    if current.ref != entry.ref:
        try:
            context["current_quote"] = dry_run(current, order, line_ids, as_of=as_of)
        except DryRunError as error:
            context["current_problem"] = str(error)
    return context


@require_GET
@viewer
def policy_version(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    entry = _version_or_404(policy_id, version)
    policy, problems = _parsed(entry)
    owner = policy_entry(policy_id, _language(), at=timezone.now())
    # Mirrors publishing.py: a draft older than a published version stays a draft.
    superseded = any(v.is_published and v.version > version
                     for v in (owner.versions if owner else []))
    zone = policy_zone(policy)
    row = entry.row
    return render(request, "console/policies/version.html", {
        "entry": entry, "policy": policy, "problems": problems, "source": entry.source(),
        "name": name_of(policy, _language()) if policy else policy_id, "owner": owner,
        "publishable": entry.is_unpublished and not superseded and not problems,
        "zone": zone.key, "history": history_of(row, zone.key) if row else [],
        "effective_at": (timezone.localtime(row.effective_at, zone)
                         if row and row.effective_at else None),
        "is_proposer": bool(row and row.is_proposed
                            and row.proposed_by_id == request.user.pk),
        "may_approve": bool(row and row.is_proposed
                            and permissions.may_approve(request.user, row)),
        "can_compare": bool(owner and len(owner.versions) > 1),
        **_quote(request, entry, policy), **_can(request)})


def policy_zone(policy: Policy | None) -> ZoneInfo:
    """The clock of a policy's times to take effect: its own time zone (the desk's for a
    file that is no valid policy)."""
    return ZoneInfo(policy.time_zone if policy else settings.TIME_ZONE)


def _annotated(text: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """The file's lines, each with the problems found on it."""
    by_line: dict[int, list[Problem]] = {}
    for problem in problems:
        if problem.line is not None:
            by_line.setdefault(problem.line, []).append(problem)
    return [{"number": number, "text": line, "problems": by_line.get(number, [])}
            for number, line in enumerate(text.splitlines(), start=1)]


def _editor(request: HttpRequest, *, policy_id: str | None, draft: PolicyVersion | None,
            start: str, heading: str, **extra: Any) -> HttpResponse:
    """Show the editor; on POST save a draft through the action, or show every problem at
    its key and line."""
    asks_id = policy_id is None
    if request.method == "POST":
        form = EditorForm(request.POST, asks_policy_id=asks_id)
    else:
        form = EditorForm(initial={"source": start, "note": draft.note if draft else "",
                                   "policy_id": NEW_POLICY_ID},
                          asks_policy_id=asks_id)
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        saved_id = policy_id or form.cleaned_data["policy_id"]
        text = form.cleaned_data["source"]
        try:
            saved = actions.save_draft(saved_id, text, actor=request.user,
                                       note=form.cleaned_data["note"], draft=draft)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from None
        except actions.PolicyStoreError as error:
            problems = locate_all(error.problems, text)
        else:
            messages.success(request, _("Saved %(ref)s as a draft. Try it on an order below, "
                                        "then publish it.") % {"ref": saved.ref})
            return redirect("console:policy_version", saved.policy_id, saved.version)
    text = form["source"].value() or ""
    return render(request, "console/policies/editor.html", {
        "form": form, "heading": heading, "policy_id": policy_id, "draft": draft,
        "problems": problems, "lines": _annotated(text, problems) if problems else [],
        **extra},
        status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@writer
def policy_new(request: HttpRequest, policy_id: str) -> HttpResponse:
    """A new version of an existing policy, starting from its newest published version
    (scheduled ones included, so their changes carry on), else its current one (or, with
    ?from=N, from version N; a policy with drafts only starts from its newest)."""
    owner = policy_entry(policy_id, _language(), at=timezone.now())
    if owner is None:
        raise Http404(_("There is no policy %(policy)s.") % {"policy": policy_id})
    base = (next((entry for entry in owner.versions if entry.is_published), None)
            or owner.current or owner.versions[0])
    if request.GET.get("from", "").isdigit():
        base = _version_or_404(policy_id, int(request.GET["from"]))
    return _editor(request, policy_id=policy_id, draft=None, start=starting_text(base),
                   heading=_("New version of %(policy)s") % {"policy": policy_id})


@require_http_methods(["GET", "POST"])
@writer
def policy_create(request: HttpRequest) -> HttpResponse:
    """A new policy, starting from a preset's text under a new id."""
    template = request.GET.get("from", "")
    if template not in preset_ids():
        template = preset_ids()[0]
    start = starting_text(_version_or_404(template, load_preset(template).version),
                          NEW_POLICY_ID)
    return _editor(request, policy_id=None, draft=None, start=start,
                   heading=_("New policy"), presets=preset_ids())


@require_http_methods(["GET", "POST"])
@writer
def policy_edit(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    """Revise a draft that is not published yet."""
    draft = get_object_or_404(PolicyVersion, policy_id=policy_id, version=version)
    if draft.is_published:
        messages.error(request, _("%(ref)s is published and cannot change: save a new "
                                  "version.") % {"ref": draft.ref})
        return redirect("console:policy_version", policy_id, version)
    if draft.is_proposed:
        messages.error(request, _("%(ref)s is proposed for publication and cannot change: "
                                  "withdraw the proposal first.") % {"ref": draft.ref})
        return redirect("console:policy_version", policy_id, version)
    return _editor(request, policy_id=policy_id, draft=draft, start=draft.source,
                   heading=_("Edit draft %(ref)s") % {"ref": draft.ref})


@require_POST
@assigner
def policy_assign(request: HttpRequest, code: str) -> HttpResponse:
    product = get_object_or_404(Product, code=code)
    policy_id = request.POST.get("policy_id", "").strip()
    try:
        actions.assign_policy(product, policy_id, actor=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from None
    except actions.PolicyStoreError as error:
        messages.error(request, _("%(product)s: %(problem)s")
                       % {"product": product.code, "problem": error})
    else:
        messages.success(request, _("%(product)s now uses %(policy)s.")
                         % {"product": product.code, "policy": policy_id})
    return redirect(reverse("console:policies") + "#products")


urls = [
    path("policies/", policies, name="policies"),
    path("policies/new/", policy_create, name="policy_create"),
    path("policies/product/<slug:code>/assign/", policy_assign, name="policy_assign"),
    path("policies/<slug:policy_id>/new/", policy_new, name="policy_new"),
    path("policies/<slug:policy_id>/v<int:version>/", policy_version,
         name="policy_version"),
    path("policies/<slug:policy_id>/v<int:version>/edit/", policy_edit, name="policy_edit"),
]
