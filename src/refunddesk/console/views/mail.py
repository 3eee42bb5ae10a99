"""E-mail in the console: the triage queue of messages the intake could not turn into a
case or a reply on its own (intake/processing.py), each message with its headers, text and
attachments, the raw message, and what an agent does with it (intake/triage.py)."""

from __future__ import annotations

from datetime import datetime
from email.message import Message

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from refunddesk.cases import permissions
from refunddesk.cases.sla import counted_on, email_answer_within
from refunddesk.console.access import console_view
from refunddesk.intake.models import InboundMail, MailState, TriageReason
from refunddesk.intake.processing import checked_attachments
from refunddesk.intake.reading import header, parse_message, read_mail
from refunddesk.intake.triage import (
    ANSWER_MAX,
    TriageError,
    add_to_case,
    answer,
    case_by_number,
    claim,
    set_aside,
)

agents = console_view(check=permissions.can_work, message=gettext_lazy(
    "E-mail is handled by agents and reviewers."))

PER_PAGE = 50
SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID",
                 "In-Reply-To", "Authentication-Results", "Auto-Submitted")


class MailFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False, choices=[
        ("", gettext_lazy("Waiting in triage")), ("all", gettext_lazy("All e-mail")),
        *((state, label) for state, label in MailState.choices if state != MailState.TRIAGE)])
    reason = forms.ChoiceField(label=gettext_lazy("Why"), required=False,
                               choices=[("", gettext_lazy("Any reason")),
                                        *TriageReason.choices])


class AnswerForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Answer to the sender"),
                           widget=forms.Textarea(attrs={"rows": 5}), max_length=ANSWER_MAX)


class AddToCaseForm(forms.Form):
    tracking_number = forms.CharField(label=gettext_lazy("Tracking number of the case"),
                                      max_length=20)


@agents
@require_safe
def mail_list(request: HttpRequest) -> HttpResponse:
    form = MailFilterForm(request.GET)
    found = InboundMail.objects.select_related("case", "claimed_by")
    state, reason = "", ""
    if form.is_valid():
        state, reason = form.cleaned_data["state"], form.cleaned_data["reason"]
    if state == "":
        # The queue works oldest first: whoever wrote first waits longest.
        found = found.filter(state=MailState.TRIAGE).order_by("received_at", "pk")
    else:
        found = found.order_by("-received_at", "-pk")
        if state != "all":
            found = found.filter(state=state)
    if reason:
        found = found.filter(triage_reason=reason)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    now = timezone.now()
    rows = [(mail, *_answer_due(mail, now)) for mail in page]
    return render(request, "console/mail/list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "is_triage": state == "",
        "waiting": InboundMail.objects.filter(state=MailState.TRIAGE).count()})


def _answer_due(mail: InboundMail, now: datetime) -> tuple[datetime | None, bool]:
    """When a person owes the sender of a message in triage an answer, and whether that is
    past (the mailbox's promise, REFUNDDESK_EMAIL_ANSWER_WITHIN)."""
    if mail.state != MailState.TRIAGE:
        return None, False
    due = counted_on(settings.REFUNDDESK_EMAIL_CALENDAR, settings.TIME_ZONE, mail.received_at,
                     email_answer_within()).at
    return due, due is not None and due < now


def _message_of(mail: InboundMail) -> tuple[bytes, Message]:
    with mail.raw.open("rb") as stored:
        raw = stored.read()
    return raw, parse_message(raw)


@agents
@require_safe
def mail_detail(request: HttpRequest, mail_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(InboundMail.objects.select_related(
        "case", "handled_by", "claimed_by"), pk=mail_id), AddToCaseForm())


def _detail(request: HttpRequest, mail: InboundMail, form: AddToCaseForm, *,
            status: int = 200, answer_form: AnswerForm | None = None) -> HttpResponse:
    raw, message = _message_of(mail)
    read = read_mail(raw)
    kept, refused = checked_attachments(read)
    return render(request, "console/mail/detail.html", {
        "mail": mail, "read": read, "form": form, "answer_form": answer_form or AnswerForm(),
        "answers": list(mail.answers.select_related("author").order_by("created_at")),
        "headers": [(name, header(message, name)) for name in SHOWN_HEADERS
                    if header(message, name)],
        "attachments": [(upload.name, upload.size) for upload in kept],
        "refused": refused, "is_open": mail.state == MailState.TRIAGE,
    }, status=status)


@agents
@require_safe
def mail_raw(request: HttpRequest, mail_id: int) -> FileResponse:
    """The message as received, as a download (never shown as a page: it is untrusted)."""
    mail = get_object_or_404(InboundMail, pk=mail_id)
    return FileResponse(mail.raw.open("rb"), as_attachment=True,
                        filename=f"message-{mail.pk}.eml", content_type="message/rfc822")


@agents
@require_POST
def mail_add_to_case(request: HttpRequest, mail_id: int) -> HttpResponse:
    mail = get_object_or_404(InboundMail, pk=mail_id)
    form = AddToCaseForm(request.POST)
    if form.is_valid():
        try:
            case = case_by_number(form.cleaned_data["tracking_number"])
            mail = add_to_case(mail, case, actor=request.user)
        except TriageError as refusal:
            form.add_error("tracking_number", str(refusal))
        else:
            messages.success(request, _("The e-mail is now the customer's message on case "
                                        "%(number)s.") % {"number": case.tracking_number})
            return redirect("console:mail_list")
    return _detail(request, mail, form, status=400)


@agents
@require_POST
def mail_answer(request: HttpRequest, mail_id: int) -> HttpResponse:
    mail = get_object_or_404(InboundMail, pk=mail_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            answer(mail, actor=request.user, body=form.cleaned_data["body"])
        except TriageError as refusal:
            form.add_error("body", str(refusal))
        else:
            messages.success(request, _("The answer is on its way to the sender."))
            return redirect("console:mail_list")
    return _detail(request, mail, AddToCaseForm(), status=400, answer_form=form)


@agents
@require_POST
def mail_claim(request: HttpRequest, mail_id: int) -> HttpResponse:
    mail = get_object_or_404(InboundMail, pk=mail_id)
    try:
        claim(mail, actor=request.user)
    except TriageError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("You have taken this e-mail."))
    return redirect("console:mail_detail", mail_id=mail.pk)


@agents
@require_POST
def mail_set_aside(request: HttpRequest, mail_id: int) -> HttpResponse:
    mail = get_object_or_404(InboundMail, pk=mail_id)
    try:
        set_aside(mail, actor=request.user)
    except TriageError as refusal:
        messages.error(request, str(refusal))
        return redirect("console:mail_detail", mail_id=mail.pk)
    messages.success(request, _("The e-mail is set aside; it stays under “All e-mail”."))
    return redirect("console:mail_list")


urls = [
    path("mail/", mail_list, name="mail_list"),
    path("mail/<int:mail_id>/", mail_detail, name="mail_detail"),
    path("mail/<int:mail_id>/raw", mail_raw, name="mail_raw"),
    path("mail/<int:mail_id>/add-to-case", mail_add_to_case, name="mail_add_to_case"),
    path("mail/<int:mail_id>/set-aside", mail_set_aside, name="mail_set_aside"),
    path("mail/<int:mail_id>/answer", mail_answer, name="mail_answer"),
    path("mail/<int:mail_id>/claim", mail_claim, name="mail_claim"),
]
