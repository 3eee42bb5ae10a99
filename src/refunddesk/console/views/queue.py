"""The queue at /console/: filters, counts per state, keyset pages of cases with the
total ("1–50 of 1,234"), claim and assign from the row, and the views above it (built-in
and saved by each staff member). The rows and counts reload themselves every 30 s through
htmx (`queue_rows`, the same filters); without JavaScript the page is a plain GET form.
The bare address shows the filters the staff member used last (saved_views.py); "Reset"
forgets them.

What a staff member may do is decided by the actions (cases/permissions.py); the page only
hides the buttons of those who may not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from refunddesk.cases import actions, permissions
from refunddesk.cases.actions import CaseError
from refunddesk.cases.models import Channel, RefundCase
from refunddesk.cases.states import TERMINAL_STATES, State
from refunddesk.console import queueing, saved_views
from refunddesk.console.access import staff_member, staff_required
from refunddesk.console.queue_forms import QueueFilterForm, state_label
from refunddesk.core.money import format_money
from refunddesk.policy.presets import load_preset, preset_ids

REFRESH_SECONDS = 30


@dataclass
class Flag:
    label: str
    css: str


@dataclass
class Row:
    """One case as a queue row shows it."""

    case: RefundCase
    state: str
    products: list[str]
    assessed: str
    approved: str | None
    channel: str
    sla: str  # overdue | today | paused | due | "" (no clock)
    flags: list[Flag] = field(default_factory=list)
    is_open: bool = True
    can_claim: bool = False
    can_assign: bool = False


def sla_kind(case: RefundCase, now: datetime, end_of_day: datetime) -> str:
    if case.state == State.AWAITING_CUSTOMER and case.sla_paused_at is not None:
        return "paused"
    if case.sla_due_at is None:
        return ""
    if case.sla_due_at < now:
        return "overdue"
    return "today" if case.sla_due_at < end_of_day else "due"


def present(case: RefundCase, products: list[queueing.ProductName], *, viewer: Any,
            language: str, now: datetime) -> Row:
    end_of_day = queueing.end_of_day(now, timezone.get_current_timezone())
    flags = []
    if case.escalated_at is not None:
        flags.append(Flag(_("Escalated"), "badge-warn"))
    if case.proposal is not None:
        flags.append(Flag(_("Waiting for second approval"), "badge-info"))
    if case.appealed_at is not None:
        flags.append(Flag(_("Appeal"), "badge-bad" if case.state == State.APPEALED else ""))
    is_open = case.state not in TERMINAL_STATES
    if case.deadlines_estimated and is_open:
        flags.append(Flag(_("Deadline estimated: no calendar data"), "badge-warn"))
    can_work = permissions.can_work(viewer)
    return Row(
        case=case, state=str(state_label(case.state)),
        products=[product.name_for(language) for product in products],
        assessed=format_money(case.assessed_total_minor, case.currency),
        approved=(format_money(case.approved_total_minor, case.currency)
                  if case.approved_total_minor is not None else None),
        channel=str(Channel(case.channel).label) if case.channel in Channel.values
        else case.channel,
        sla=sla_kind(case, now, end_of_day), flags=flags, is_open=is_open,
        can_claim=can_work and is_open and case.assignee_id is None,
        can_assign=can_work and is_open)


def known_rules() -> list[str]:
    """Rule ids of the shipped policies, offered as suggestions in the rule filter."""
    return sorted({rule.id for preset in preset_ids() for rule in load_preset(preset).rules})


def staff_choices() -> list[tuple[int, str]]:
    return [(user.pk, user.get_username()) for user in permissions.assignable_staff()]


# -- the page and its refreshing region ---------------------------------------------------

def _query(form: QueueFilterForm, **changes: Any) -> str:
    query = form.filter_query()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        elif isinstance(value, list | tuple):
            query.setlist(name, list(value))
        else:
            query[name] = value
    return query.urlencode()


def _chips(form: QueueFilterForm, counts: dict[str, int], my_count: int
           ) -> list[dict[str, Any]]:
    chosen = set(form.cleaned_data["state"])
    open_states = list(queueing.OPEN_STATES)
    is_mine = form.cleaned_data["assignee"] == queueing.ME
    chips: list[dict[str, Any]] = [
        {"label": _("Open"), "count": sum(counts[s] for s in open_states),
         "query": _query(form, state=open_states), "css": "",
         "is_current": chosen == set(open_states)},
        {"label": _("All states"), "count": sum(counts.values()),
         "query": _query(form, state=[]), "css": "", "is_current": not chosen},
    ]
    chips += [{"label": state_label(value), "count": counts[value],
               "query": _query(form, state=[value]), "css": f"state-{value}",
               "is_current": chosen == {value}}
              for value in State.values]
    chips.append({"label": _("My cases"), "count": my_count, "css": "chip-mine",
                  "query": _query(form, state=open_states, assignee=queueing.ME),
                  "is_current": is_mine and chosen == set(open_states)})
    for chip in chips:
        chip["count_label"] = _count_label(chip["count"])
    return chips


def _count_label(count: int) -> str:
    if queueing.is_capped(count):
        return f"{_grouped(queueing.COUNT_CAP)}+"
    return _grouped(count)


def _grouped(number: int) -> str:
    return number_format(number, force_grouping=True)


def _position(form: QueueFilterForm, page: queueing.Page, total: queueing.Total
              ) -> dict[str, Any]:
    """Where the page stands among the matching cases: its first and last row's place and
    the total. Keyset pages do not know their offset, so the page links carry it."""
    first = 1 if page.is_first else form.cleaned_data["start"]
    last = first + len(page.cases) - 1
    return {"first": _grouped(first), "last": _grouped(last), "total": _grouped(total.count),
            "is_capped": total.is_capped, "first_number": first, "last_number": last}


def region_context(request: HttpRequest, form: QueueFilterForm) -> dict[str, Any]:
    """The rows, counts and page links of the current filters (empty when they are bad)."""
    now = timezone.now()
    tz = timezone.get_current_timezone()
    base = reverse("console:queue")
    context: dict[str, Any] = {
        "form": form, "now": now, "can_work": permissions.can_work(request.user),
        "rows": [], "chips": [], "refresh_seconds": REFRESH_SECONDS,
        "reset_url": f"{base}?reset=1",
    }
    if not form.is_valid():
        context["queue_url"] = base
        return context
    data = form.cleaned_data
    filters = form.filters()
    viewer = request.user
    page = queueing.page(filters, data["sort"], after=data["after"], before=data["before"],
                         viewer=viewer, now=now, tz=tz)
    counts = queueing.state_counts(filters, viewer=viewer, now=now, tz=tz)
    total = queueing.total_of(counts, filters)
    position = _position(form, page, total)
    here_at = {name: data[name].encode() for name in ("after", "before") if data[name]}
    if here_at:
        here_at["start"] = str(position["first_number"])
    here = _query(form, **here_at)
    next_start = str(position["last_number"] + 1)
    back_start = str(max(1, position["first_number"] - queueing.PAGE_SIZE))
    context.update(
        page=page, total=total, position=position,
        rows=[present(case, page.products[case.pk], viewer=request.user,
                      language=request.LANGUAGE_CODE, now=now) for case in page.cases],
        chips=_chips(form, counts, queueing.my_open_count(request.user)),
        # Nothing in the states chosen, but a search or filter matches cases in others.
        elsewhere_url=(f"{base}?{_query(form, state=[])}"
                       if data["state"] and sum(counts.values()) else ""),
        staff=([(user.pk, user.get_username()) for user in form.staff]
               if context["can_work"] else []),
        queue_url=f"{base}?{here}",
        rows_url=f"{reverse('console:queue_rows')}?{here}",
        first_url=f"{base}?{_query(form)}",
        next_url=(f"{base}?{_query(form, after=page.next.encode(), start=next_start)}"
                  if page.next else ""),
        previous_url=(f"{base}?{_query(form, before=page.previous.encode(), start=back_start)}"
                      if page.previous else ""),
    )
    return context


def views_context(request: HttpRequest, form: QueueFilterForm) -> dict[str, Any]:
    """The views shown as links above the queue, the one on screen marked."""
    built_in, own = saved_views.views_for(request.user)
    current = (saved_views.canonical(form.filter_query().urlencode()) if form.is_valid()
               else None)
    return {
        "views": [{"label": view.label, "url": f"{reverse('console:queue')}?{view.query}",
                   "pk": view.pk,
                   "is_current": saved_views.canonical(view.query) == current}
                  for view in [*built_in, *own]],
        "view_query": form.filter_query().urlencode() if form.is_valid() else "",
    }


@staff_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    base = reverse("console:queue")
    if "reset" in request.GET:
        saved_views.forget(request.user)
        return redirect(base)
    if not request.GET:
        last = saved_views.remembered(request.user)
        if last:
            return redirect(f"{base}?{last}")
    form = QueueFilterForm(request.GET)
    if request.GET and form.is_valid():
        saved_views.remember(request.user, form.filter_query().urlencode())
    return render(request, "console/queue/queue.html",
                  {**region_context(request, form), **views_context(request, form),
                   "known_rules": known_rules()})


@staff_required
@require_safe
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The region of counts, rows and page links alone: what htmx reloads."""
    form = QueueFilterForm(request.GET)
    return render(request, "console/queue/region.html", region_context(request, form))


# -- saved views --------------------------------------------------------------------------

@staff_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    """Save the filters on screen (the `query` the page sends) under a name."""
    form = QueueFilterForm(QueryDict(request.POST.get("query", "")))
    base = reverse("console:queue")
    if not form.is_valid():
        messages.error(request, _("These filters have errors; correct them before saving "
                                  "them as a view."))
        return redirect(base)
    query = form.filter_query().urlencode()
    try:
        view = saved_views.save(request.user, request.POST.get("name", ""), query)
    except saved_views.ViewNotSaved as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
    return redirect(f"{base}?{query}")


@staff_required
@require_POST
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    """Delete one of the staff member's own views; another's is not found."""
    if not saved_views.delete(request.user, view_id):
        raise Http404("no such view")
    messages.success(request, _("The view is deleted."))
    return redirect(queue_address(request))


# -- claim and assign ---------------------------------------------------------------------

def queue_address(request: HttpRequest) -> str:
    """Where to return after an action (a row's, the bulk bar's): the queue address, with
    its filters, the form was sent from; the queue itself for anything else."""
    target = request.POST.get("next", "")
    base = reverse("console:queue")
    parts = urlsplit(target)
    if (parts.path == base and not parts.scheme and not parts.netloc
            and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure())):
        return target
    return base


def _answer(request: HttpRequest, case: RefundCase, notice: str, level: str) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        now = timezone.now()
        [fresh], products = queueing.rows_for([case.pk])
        can_work = permissions.can_work(request.user)
        return render(request, "console/queue/row.html", {
            "row": present(fresh, products[fresh.pk], viewer=request.user,
                           language=request.LANGUAGE_CODE, now=now),
            "notice": notice, "notice_level": level, "can_work": can_work,
            "staff": staff_choices() if can_work else [], "queue_url": queue_address(request),
        })
    getattr(messages, level)(request, notice)
    return redirect(queue_address(request))


@staff_required
@require_POST
def claim(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = get_object_or_404(RefundCase, tracking_number=tracking_number)
    try:
        actions.claim(case, actor=staff_member(request))
    except CaseError as error:
        return _answer(request, case, str(error.message), "error")
    return _answer(request, case, _("You have taken case %(tracking)s.")
                   % {"tracking": case.tracking_number}, "success")


@staff_required
@require_POST
def assign(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = get_object_or_404(RefundCase, tracking_number=tracking_number)
    chosen = request.POST.get("assignee", "").strip()
    assignee = None
    if chosen:
        assignee = (permissions.assignable_staff().filter(pk=chosen).first()
                    if chosen.isdigit() else None)
        if assignee is None:
            return _answer(request, case, _("Choose a staff member who works refund cases."),
                           "error")
    try:
        actions.assign(case, actor=staff_member(request), assignee=assignee)
    except CaseError as error:
        return _answer(request, case, str(error.message), "error")
    if assignee is None:
        notice = _("Case %(tracking)s is back in the open queue.")
    else:
        notice = _("Case %(tracking)s is now assigned to %(name)s.")
    return _answer(request, case, notice % {"tracking": case.tracking_number,
                                            "name": assignee and assignee.get_username()},
                   "success")


urls = [
    path("", queue, name="queue"),
    path("queue/rows", queue_rows, name="queue_rows"),
    path("queue/views", save_view, name="queue_save_view"),
    path("queue/views/<int:view_id>/delete", delete_view, name="queue_delete_view"),
    path("queue/<str:tracking_number>/claim", claim, name="queue_claim"),
    path("queue/<str:tracking_number>/assign", assign, name="queue_assign"),
]

