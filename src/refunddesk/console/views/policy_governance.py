"""Publishing a policy version with a second admin's approval, and comparing two versions.

One admin proposes a draft (optionally to take effect at a time, on the policy's clock); the
others are told in their inbox; another admin reviews what changes in words and approves or
declines it; the proposer may withdraw it. Every step goes through
refunddesk.policies.publishing, which checks the role and the four eyes again; these views
only decide who sees which page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refunddesk.cases.errors import NotPermitted
from refunddesk.console.access import console_view
from refunddesk.console.views.policies import ADMINS_ONLY, policy_zone
from refunddesk.policies import permissions, publishing
from refunddesk.policies.actions import PolicyStoreError
from refunddesk.policies.comparing import Comparison, compare_versions
from refunddesk.policies.dryrun import engine_locale
from refunddesk.policies.forms import ApproveForm, DeclineForm, ProposeForm
from refunddesk.policies.models import PolicyChangeKind, PolicyVersion
from refunddesk.policies.overview import PolicyEntry, VersionEntry, policy_entry
from refunddesk.policy.schema import PolicyError

viewer = console_view(check=permissions.can_view, message=ADMINS_ONLY)
publisher = console_view(check=permissions.can_publish,
                         message=gettext_lazy("Only an admin publishes refund policy "
                                              "versions."))


def _owner(policy_id: str) -> PolicyEntry:
    owner = policy_entry(policy_id, translation.get_language() or "en", at=timezone.now())
    if owner is None:
        raise Http404(_("There is no policy %(policy)s.") % {"policy": policy_id})
    return owner


def _entry(owner: PolicyEntry, version: int) -> VersionEntry:
    entry = owner.version(version)
    if entry is None:
        raise Http404(_("There is no version %(version)s of policy %(policy)s.")
                      % {"version": version, "policy": owner.policy_id})
    return entry


def _zone(row: PolicyVersion) -> ZoneInfo:
    try:
        return policy_zone(row.policy())
    except PolicyError:
        return policy_zone(None)


def _against_current(owner: PolicyEntry, entry: VersionEntry) -> Comparison | None:
    """What `entry` changes from the version in force now (None: nothing to compare with)."""
    current = owner.current
    if current is None or current.version == entry.version:
        return None
    return compare_versions(current, entry, engine_locale())


def _local(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    return timezone.localtime(at, zone) if at is not None else None


def _valid(form: forms.Form, zone: ZoneInfo) -> bool:
    # A time typed in the form is on the policy's clock, not the desk's.
    with timezone.override(zone):
        return form.is_valid()


def _back(row: PolicyVersion) -> HttpResponse:
    return redirect("console:policy_version", row.policy_id, row.version)


def _proposal_note(row: PolicyVersion) -> str:
    proposed = (row.changes.filter(kind=PolicyChangeKind.PROPOSED)
                .order_by("-at", "-id").first())
    return (proposed.details or {}).get("note", "") if proposed else ""


@require_http_methods(["GET", "POST"])
@publisher
def policy_propose(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    """GET shows what the draft changes and asks when it should take effect; POST proposes
    it for another admin's approval."""
    row = get_object_or_404(PolicyVersion, policy_id=policy_id, version=version)
    zone = _zone(row)
    form = ProposeForm(request.POST if request.method == "POST" else None)
    problems: list[str] = []
    if request.method == "POST" and _valid(form, zone):
        try:
            publishing.propose_publication(row, actor=request.user,
                                           effective_at=form.cleaned_data["effective_at"],
                                           note=form.cleaned_data["note"])
        except NotPermitted as error:
            raise PermissionDenied(error.message) from None
        except PolicyStoreError as error:
            problems = error.problems
        else:
            messages.success(request, _("Proposed %(ref)s for publication. Another admin must "
                                        "approve it; the admins were told in their inbox.")
                             % {"ref": row.ref})
            return _back(row)
    owner = _owner(policy_id)
    return render(request, "console/policies/propose.html", {
        "row": row, "owner": owner, "current": owner.current, "form": form,
        "zone": zone.key, "problems": problems,
        "comparison": _against_current(owner, _entry(owner, version))},
        status=400 if request.method == "POST" else 200)


@require_GET
@publisher
def policy_review(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    """The proposal as the approving admin reads it: who asked, for when, and what changes
    from the version in force, with the forms to approve or decline it."""
    row = get_object_or_404(PolicyVersion.objects.select_related("proposed_by"),
                            policy_id=policy_id, version=version)
    if not row.is_proposed:
        messages.info(request, _("%(ref)s is not proposed for publication.")
                      % {"ref": row.ref})
        return _back(row)
    zone = _zone(row)
    owner = _owner(policy_id)
    seen = row.proposed_at.isoformat() if row.proposed_at else ""
    return render(request, "console/policies/review.html", {
        "row": row, "owner": owner, "current": owner.current, "zone": zone.key,
        "asked_for": _local(row.effective_at, zone), "note": _proposal_note(row),
        "is_proposer": row.proposed_by_id == request.user.pk,
        "approve_form": ApproveForm(initial={"seen": seen}),
        "decline_form": DeclineForm(initial={"seen": seen}),
        "comparison": _against_current(owner, _entry(owner, version))})


def _refused(request: HttpRequest, row: PolicyVersion, error: Exception) -> HttpResponse:
    problems = error.problems if isinstance(error, PolicyStoreError) else [str(error)]
    for problem in problems:
        messages.error(request, problem)
    row.refresh_from_db()
    if row.is_proposed:
        return redirect("console:policy_review", row.policy_id, row.version)
    return _back(row)


@require_POST
@publisher
def policy_approve(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    row = get_object_or_404(PolicyVersion, policy_id=policy_id, version=version)
    zone = _zone(row)
    form = ApproveForm(request.POST)
    if not _valid(form, zone):
        messages.error(request, _("The time to take effect is not a date and time."))
        return redirect("console:policy_review", policy_id, version)
    try:
        row = publishing.approve_publication(row, actor=request.user,
                                             seen=form.cleaned_data["seen"],
                                             effective_at=form.cleaned_data["effective_at"])
    except (NotPermitted, PolicyStoreError) as error:
        # The proposer approving their own proposal lands here too: said, not a bare 403.
        return _refused(request, row, error)
    effective = _local(row.effective_at, zone)
    if row.effective_at is not None and row.effective_at > timezone.now():
        messages.success(request, _("Approved: %(ref)s is published and takes effect at "
                                    "%(when)s (%(zone)s). Until then the version before it "
                                    "stays in force.")
                         % {"ref": row.ref, "when": f"{effective:%Y-%m-%d %H:%M}",
                            "zone": zone.key})
    else:
        messages.success(request, _("Approved: %(ref)s is published and in force now. New "
                                    "assessments of its products use it; cases already open "
                                    "keep their version.") % {"ref": row.ref})
    return _back(row)


@require_POST
@publisher
def policy_decline(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    row = get_object_or_404(PolicyVersion, policy_id=policy_id, version=version)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you decline publishing %(ref)s.")
                       % {"ref": row.ref})
        return redirect("console:policy_review", policy_id, version)
    try:
        publishing.decline_publication(row, actor=request.user, seen=form.cleaned_data["seen"],
                                       reason=form.cleaned_data["reason"])
    except (NotPermitted, PolicyStoreError) as error:
        return _refused(request, row, error)
    messages.success(request, _("Declined: %(ref)s is a draft again, and its proposer is "
                                "told why.") % {"ref": row.ref})
    return _back(row)


@require_POST
@publisher
def policy_withdraw(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    row = get_object_or_404(PolicyVersion, policy_id=policy_id, version=version)
    try:
        publishing.withdraw_proposal(row, actor=request.user)
    except (NotPermitted, PolicyStoreError) as error:
        return _refused(request, row, error)
    messages.success(request, _("Withdrawn: %(ref)s is a draft again; edit it or propose it "
                                "again.") % {"ref": row.ref})
    return _back(row)


def _default_other(owner: PolicyEntry, entry: VersionEntry,
                   others: list[VersionEntry]) -> VersionEntry:
    """The version in force, or, for the version in force itself, the one before it."""
    current = owner.current
    if current is not None and current.version != entry.version:
        return current
    older = [other for other in others if other.version < entry.version]
    return older[0] if older else others[0]


@require_GET
@viewer
def policy_compare(request: HttpRequest, policy_id: str, version: int) -> HttpResponse:
    """Two versions of a policy: the rules in words, part by part, and the TOML line by
    line. ?with=N chooses the other version; by default the version in force."""
    owner = _owner(policy_id)
    entry = _entry(owner, version)
    others = [other for other in owner.versions if other.version != version]
    context: dict[str, Any] = {"owner": owner, "entry": entry, "others": others}
    if others:
        chosen = request.GET.get("with", "")
        other = next((o for o in others if chosen.isdigit() and o.version == int(chosen)),
                     None) or _default_other(owner, entry, others)
        context.update(other=other,
                       comparison=compare_versions(entry, other, engine_locale()))
    return render(request, "console/policies/compare.html", context)


urls = [
    path("policies/<slug:policy_id>/v<int:version>/compare/", policy_compare,
         name="policy_compare"),
    path("policies/<slug:policy_id>/v<int:version>/propose/", policy_propose,
         name="policy_propose"),
    path("policies/<slug:policy_id>/v<int:version>/review/", policy_review,
         name="policy_review"),
    path("policies/<slug:policy_id>/v<int:version>/approve/", policy_approve,
         name="policy_approve"),
    path("policies/<slug:policy_id>/v<int:version>/decline/", policy_decline,
         name="policy_decline"),
    path("policies/<slug:policy_id>/v<int:version>/withdraw/", policy_withdraw,
         name="policy_withdraw"),
]
