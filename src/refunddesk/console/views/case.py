"""The console's case page: everything about one refund case, and the forms of the actions
the reader's role and the case's state allow (case_actions.py receives them). Also the
inline preview of the case's documents."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from refunddesk.cases.models import RefundCase
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.console import case_forms
from refunddesk.console.access import staff_required
from refunddesk.console.case_payouts import payout_rows
from refunddesk.console.case_presenting import case_view, preview_kind
from refunddesk.replies.filling import filled, offered_for
from refunddesk.replies.models import CannedReply
from refunddesk.replies.permissions import can_keep as can_keep_replies
from refunddesk.replies.permissions import can_use as can_use_replies

# A staff member's browser shows what customers uploaded: keep it out of our origin
# (sandbox: no scripts, no cookies, an opaque origin) and framable only by our own pages.
# Chromium still renders PDFs under this policy.
PREVIEW_POLICY = "sandbox; frame-ancestors 'self'"


def load_case(tracking_number: str) -> RefundCase:
    try:
        number = normalise(tracking_number)
    except NotATrackingNumber:
        raise Http404("no such case") from None
    return get_object_or_404(
        RefundCase.objects.select_related("account", "order", "assignee", "decided_by",
                                          "proposed_by", "opened_by", "rejection_reason",
                                          "reason_category", "appeal_of_decision_by"),
        tracking_number=number)


def render_case(request: HttpRequest, case: RefundCase, *, status: int = 200,
                bound: dict[str, forms.Form] | None = None,
                prefill: dict[str, dict[str, str]] | None = None) -> HttpResponse:
    """The page, with `bound` forms (by key) shown as submitted, with their errors, and
    `prefill`ed ones opened with those values. An error of a form the page no longer
    offers (the case moved on) is shown at the top."""
    bound = bound or {}
    prefill = prefill or {}
    language = request.LANGUAGE_CODE
    view = case_view(case, request.user, language=language, now=timezone.now())
    shown = {key: bound.get(key) or case_forms.form_for(key, case, language=language,
                                                       user=request.user,
                                                       initial=prefill.get(key))
             for key in case_forms.offered(case, request.user)}
    takes_replies = can_use_replies(request.user) and any(
        key in shown for key in case_forms.REPLY_TARGETS)
    errors_elsewhere = [str(error) for key, form in bound.items() if key not in shown
                        for error in form.non_field_errors()]
    context: dict[str, Any] = {
        "case": case, "view": view, "forms": shown, "errors_elsewhere": errors_elsewhere,
        "payouts": payout_rows(case, request.user),
        "open_form": next(iter(bound), "") or next(iter(prefill), ""),
        "replies": offered_for(case) if takes_replies else [],
        "keeps_replies": can_keep_replies(request.user),
        "form_with_errors": next((key for key, form in bound.items()
                                  if key in shown and form.errors), ""),
    }
    return render(request, "console/case/page.html", context, status=status)


@require_safe
@staff_required
def case_page(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = load_case(tracking_number)
    return render_case(request, case, prefill=reply_prefill(request, case))


def reply_prefill(request: HttpRequest, case: RefundCase) -> dict[str, dict[str, str]]:
    """?into=message|reject&reply=<id>: that form opened with the canned reply filled in
    for this case. How the reply is inserted without JavaScript (console/replies.js inserts
    it in place where scripts run)."""
    into, chosen = request.GET.get("into", ""), request.GET.get("reply", "")
    if into not in case_forms.REPLY_TARGETS or not chosen or not can_use_replies(request.user):
        return {}
    reply = (CannedReply.objects.filter(pk=chosen, is_active=True).first()
             if chosen.isdigit() else None)
    if reply is None:
        messages.error(request, _("That canned reply is no longer offered; choose another."))
        return {}
    return {into: {case_forms.REPLY_TARGETS[into]: filled(reply, case)}}


@require_safe
@xframe_options_sameorigin
@staff_required
def document(request: HttpRequest, tracking_number: str, document_id: int
             ) -> HttpResponseBase:
    """A document shown inline, for the previews; `?download` makes it an attachment.
    Only the types the upload check let in, served as exactly that type."""
    case = load_case(tracking_number)
    found = case.documents.filter(pk=document_id).first()
    if found is None or not preview_kind(found.content_type):
        raise Http404("no such document")
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404("the stored file is missing") from None
    content_type = found.content_type
    if content_type == "text/plain":
        content_type += "; charset=utf-8"
    response = FileResponse(handle, as_attachment="download" in request.GET,
                            filename=found.name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PREVIEW_POLICY
    response["Cache-Control"] = "private, no-store"
    return response


urls = [
    path("cases/<str:tracking_number>", case_page, name="case"),
    path("cases/<str:tracking_number>/documents/<int:document_id>", document,
         name="case_document"),
]
