"""The admin's pages of canned replies: the list, a new reply, changing one, retiring one
(agents are offered it no more) and offering it again. Every change goes through
refunddesk.replies.editing, which checks the role again."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refunddesk.console.access import console_view
from refunddesk.replies.editing import ReplyError, save_reply, set_offered
from refunddesk.replies.forms import ReplyForm
from refunddesk.replies.models import CannedReply
from refunddesk.replies.permissions import can_keep
from refunddesk.replies.placeholders import PLACEHOLDERS

admins = console_view(check=can_keep,
                      message=gettext_lazy("The canned replies are kept by admins."))


@admins
@require_GET
def reply_list(request: HttpRequest) -> HttpResponse:
    replies = CannedReply.objects.select_related("updated_by")
    return render(request, "console/replies/list.html", {
        "active": [reply for reply in replies if reply.is_active],
        "retired": [reply for reply in replies if not reply.is_active]})


def _edit(request: HttpRequest, reply: CannedReply | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                saved = save_reply(reply, actor=request.user, **form.cleaned_data)
            except ReplyError as refusal:
                form.add_error(refusal.field or None, refusal.message)
            else:
                messages.success(request, _("The canned reply “%(title)s” is saved.")
                                 % {"title": saved.title})
                return redirect("console:replies")
        status = 400
    elif reply is not None:
        form = ReplyForm(initial={"title": reply.title, "text_zh": reply.text_zh,
                                  "text_en": reply.text_en})
    else:
        form = ReplyForm()
    return render(request, "console/replies/form.html", {
        "form": form, "reply": reply,
        "placeholders": [f"{{{name}}}" for name in PLACEHOLDERS]}, status=status)


@admins
@require_http_methods(["GET", "POST"])
def reply_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@admins
@require_http_methods(["GET", "POST"])
def reply_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(CannedReply, pk=reply_id))


def _offer(request: HttpRequest, reply_id: int, *, is_active: bool) -> HttpResponse:
    reply = set_offered(get_object_or_404(CannedReply, pk=reply_id), is_active=is_active,
                        actor=request.user)
    if is_active:
        messages.success(request, _("“%(title)s” is offered to agents again.")
                         % {"title": reply.title})
    else:
        messages.success(request, _("“%(title)s” is retired: agents are offered it no more.")
                         % {"title": reply.title})
    return redirect("console:replies")


@admins
@require_POST
def reply_retire(request: HttpRequest, reply_id: int) -> HttpResponse:
    return _offer(request, reply_id, is_active=False)


@admins
@require_POST
def reply_restore(request: HttpRequest, reply_id: int) -> HttpResponse:
    return _offer(request, reply_id, is_active=True)


urls = [
    path("replies/", reply_list, name="replies"),
    path("replies/new", reply_new, name="reply_new"),
    path("replies/<int:reply_id>", reply_edit, name="reply_edit"),
    path("replies/<int:reply_id>/retire", reply_retire, name="reply_retire"),
    path("replies/<int:reply_id>/restore", reply_restore, name="reply_restore"),
]
