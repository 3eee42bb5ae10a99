"""Writing, changing, retiring and offering again a canned reply: the one way it is done.
Only an admin (permissions.py); a text with an unknown placeholder is refused with a
ReplyError naming it, and changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.replies.models import TEXT_MAX, TITLE_MAX, CannedReply
from refunddesk.replies.permissions import require_keep
from refunddesk.replies.placeholders import PLACEHOLDERS, has_stray_brace, unknown_placeholders


class ReplyError(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def text_problem(text: str) -> str:
    """What is wrong with a reply's text, said to the admin; "" when nothing is."""
    unknown = unknown_placeholders(text)
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    if unknown:
        return _("Unknown placeholder %(names)s: use only %(known)s.") % {
            "names": ", ".join(f"{{{name}}}" for name in unknown), "known": known}
    if has_stray_brace(text):
        return _("A brace { or } encloses no placeholder: write them as %(known)s.") % {
            "known": known}
    return ""


def _checked(title: str, text_zh: str, text_en: str) -> tuple[str, str, str]:
    title = (title or "").strip()
    if not title:
        raise ReplyError(_("Give the reply a title agents will recognise."), "title")
    if len(title) > TITLE_MAX:
        raise ReplyError(_("The title can have at most %(limit)d characters.")
                         % {"limit": TITLE_MAX}, "title")
    texts = []
    for field, text in (("text_zh", text_zh), ("text_en", text_en)):
        text = (text or "").strip()
        if not text:
            raise ReplyError(_("Write the reply in both languages."), field)
        if len(text) > TEXT_MAX:
            raise ReplyError(_("The text can have at most %(limit)d characters.")
                             % {"limit": TEXT_MAX}, field)
        problem = text_problem(text)
        if problem:
            raise ReplyError(problem, field)
        texts.append(text)
    return title, texts[0], texts[1]


def save_reply(reply: CannedReply | None, *, title: str, text_zh: str, text_en: str,
               actor: Any, now: datetime | None = None) -> CannedReply:
    """Write a new reply (`reply` None) or change one; returns it."""
    require_keep(actor)
    title, text_zh, text_en = _checked(title, text_zh, text_en)
    now = now or timezone.now()
    with transaction.atomic():
        if reply is None:
            return CannedReply.objects.create(title=title, text_zh=text_zh, text_en=text_en,
                                              updated_at=now, updated_by=actor)
        reply = CannedReply.objects.select_for_update().get(pk=reply.pk)
        reply.title, reply.text_zh, reply.text_en = title, text_zh, text_en
        reply.updated_at, reply.updated_by = now, actor
        reply.save(update_fields=["title", "text_zh", "text_en", "updated_at", "updated_by"])
        return reply


def set_offered(reply: CannedReply, *, is_active: bool, actor: Any,
                now: datetime | None = None) -> CannedReply:
    """Retire a reply (is_active False: agents are offered it no more) or offer it again."""
    require_keep(actor)
    with transaction.atomic():
        reply = CannedReply.objects.select_for_update().get(pk=reply.pk)
        if reply.is_active != is_active:
            reply.is_active, reply.updated_at, reply.updated_by = (
                is_active, now or timezone.now(), actor)
            reply.save(update_fields=["is_active", "updated_at", "updated_by"])
        return reply
