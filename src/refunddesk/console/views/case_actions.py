"""What staff do on the case page: one view per action, POST only, each calling exactly one
function of cases/actions. On success: back to the page with a message. On refusal (the
form's input, the role, the case's state, a colleague's change a moment earlier): the page
again with the form as it was sent and the reason on it; nothing is changed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from refunddesk.cases import actions, permissions
from refunddesk.cases.errors import ApprovalChanged, CaseError, NotPermitted
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import InvalidTransition
from refunddesk.console import case_forms
from refunddesk.console.access import console_view, staff_member
from refunddesk.console.case_presenting import state_label
from refunddesk.console.views.case import load_case, render_case
from refunddesk.core.money import format_money

logger = logging.getLogger(__name__)

works = console_view(check=permissions.can_work,
                     message=gettext_lazy("Your role does not handle refund cases."))

Act = Callable[[HttpRequest, RefundCase, Any], str]


def _act(request: HttpRequest, tracking_number: str, key: str, act: Act) -> HttpResponse:
    case = load_case(tracking_number)
    form = case_forms.form_for(key, case, request.POST, language=request.LANGUAGE_CODE,
                                user=request.user)
    if not form.is_valid():
        return render_case(request, case, status=400, bound={key: form})
    try:
        done = act(request, case, form)
    except InvalidTransition:
        case.refresh_from_db()
        status, error = 409, _("This cannot be done any more: the case is now “%(state)s”. "
                               "Nothing was changed.") % {"state": state_label(case.state)}
    except NotPermitted as refused:
        status, error = 403, str(refused.message)
    except ApprovalChanged as changed:
        status, error = 409, str(changed.message)
    except CaseError as refused:
        status, error = 400, str(refused.message)
    except OperationalError:
        # A lock wait that timed out or a serialisation failure: a colleague was changing
        # the case at that moment. The action's transaction has been rolled back.
        logger.warning("case %s: %s refused by the database", case.tracking_number, key,
                       exc_info=True)
        status, error = 409, _("Someone else was changing this case at the same moment. "
                               "Nothing was changed: read the case again and retry.")
    else:
        messages.success(request, done)
        return redirect("console:case", tracking_number=case.tracking_number)
    case.refresh_from_db()
    form.add_error(None, error)
    return render_case(request, case, status=status, bound={key: form})


# -- routing --------------------------------------------------------------------------------

def _claim(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.claim(case, actor=staff_member(request))
    return _("You have taken the case.")


def _assign(request: HttpRequest, case: RefundCase, form: Any) -> str:
    assignee = form.cleaned_data["assignee"]
    actions.assign(case, actor=staff_member(request), assignee=assignee)
    if assignee is None:
        return _("The case is back in the open queue.")
    return _("The case is assigned to %(name)s.") % {"name": assignee.get_username()}


def _escalate(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.escalate(case, actor=staff_member(request), reason=form.cleaned_data["reason"],
                     assignee=form.cleaned_data["reviewer"])
    return _("The case is escalated to the reviewers.")


# -- the thread -----------------------------------------------------------------------------

def _note(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.post_message(case, actor=staff_member(request), body=form.cleaned_data["body"],
                         is_internal=True)
    return _("Your internal note is added.")


def _message(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.post_message(case, actor=staff_member(request), body=form.cleaned_data["body"])
    return _("Your message is sent to the customer.")


def _request_info(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.request_info(case, actor=staff_member(request),
                         questions=form.cleaned_data["questions"],
                         documents=form.cleaned_data["documents"], due=form.due)
    return _("The customer is asked for information; the clock waits for their answer.")


# -- decisions ------------------------------------------------------------------------------

def _approve(request: HttpRequest, case: RefundCase, form: Any) -> str:
    decided = actions.approve(case, actor=staff_member(request),
                              amounts=form.cleaned_data["amounts"],
                              note=form.cleaned_data["note"],
                              justification=form.cleaned_data.get("justification", ""))
    total = format_money(sum(form.cleaned_data["amounts"].values()), case.currency)
    if decided.proposal is not None:
        return _("Your approval of %(total)s waits for a second person to confirm it.") % {
            "total": total}
    return _("The case is approved: %(total)s.") % {"total": total}


def _confirm(request: HttpRequest, case: RefundCase, form: Any) -> str:
    decided = actions.confirm_approval(case, actor=staff_member(request),
                                       seen=form.cleaned_data["proposal_at"])
    total = decided.approved_total_minor
    assert total is not None  # confirming decides the case: its total is approved
    return _("The approval is confirmed: %(total)s.") % {
        "total": format_money(total, case.currency)}


def _decline(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.decline_approval(case, actor=staff_member(request), note=form.cleaned_data["note"],
                             seen=form.cleaned_data["proposal_at"])
    return _("The proposed approval is declined; the case waits for a decision again.")


def _reject(request: HttpRequest, case: RefundCase, form: Any) -> str:
    actions.reject(case, actor=staff_member(request), reason=form.cleaned_data["reason"],
                   message=form.cleaned_data["message"])
    return _("The case is rejected; the customer is told why.")


# -- the views ------------------------------------------------------------------------------

def _view(key: str, act: Act) -> Callable[..., HttpResponseBase]:
    @require_POST
    @works
    def view(request: HttpRequest, tracking_number: str) -> HttpResponse:
        return _act(request, tracking_number, key, act)

    view.__name__ = view.__qualname__ = f"case_{key}"
    return view


claim = _view("claim", _claim)
assign = _view("assign", _assign)
note = _view("note", _note)
message = _view("message", _message)
request_info = _view("request_info", _request_info)
approve = _view("approve", _approve)
confirm = _view("confirm", _confirm)
decline = _view("decline", _decline)
reject = _view("reject", _reject)
escalate = _view("escalate", _escalate)

urls = [
    path(f"cases/<str:tracking_number>/{segment}", view, name=f"case_{key}")
    for segment, key, view in (
        ("claim", "claim", claim),
        ("assign", "assign", assign),
        ("notes", "note", note),
        ("messages", "message", message),
        ("request-info", "request_info", request_info),
        ("approve", "approve", approve),
        ("confirm-approval", "confirm", confirm),
        ("decline-approval", "decline", decline),
        ("reject", "reject", reject),
        ("escalate", "escalate", escalate),
    )
]
