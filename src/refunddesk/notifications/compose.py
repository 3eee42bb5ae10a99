"""The words of each e-mail, in the customer's language (HTML and plain text)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refunddesk.cases.document_kinds import label as document_label
from refunddesk.cases.information import asked_question
from refunddesk.core.money import format_money
from refunddesk.inbox.mail import staff_mail
from refunddesk.notifications.auto_reply import acknowledgement, refused_sentence
from refunddesk.notifications.models import EmailDelivery, Kind
from refunddesk.payouts.presenting import customer_payouts
from refunddesk.recourse.texts import final_no

if TYPE_CHECKING:
    from refunddesk.cases.models import RefundCase

T = TypeVar("T")


def _about(value: T | None, delivery: EmailDelivery, what: str) -> T:
    """What a delivery is about: its kind decides which of its optional links is set (the
    outbox writes each kind with its own), so a missing one is a fault in our data. Failing
    here names it; the sender records a delivery that cannot be composed as failed."""
    if value is None:
        raise ValueError(f"{delivery.kind} e-mail {delivery.pk} has no {what}")
    return value


def tracking_link(case: Any) -> str:
    return settings.REFUNDDESK_BASE_URL.rstrip("/") + reverse("portal:track") + (
        f"?number={case.tracking_number}")


def case_link(case: Any) -> str:
    """The customer's own page of the case (behind the portal login)."""
    return settings.REFUNDDESK_BASE_URL.rstrip("/") + reverse(
        "portal:case", args=[case.tracking_number])


def where_it_went(case: Any) -> list[str]:
    """The paid mail's list of payouts, so the customer knows where to look for each
    amount; then why any of it did not go back the way it was paid."""
    payouts = customer_payouts(case)
    if not payouts:
        return []
    lines = [_("Where the money went:")] + [
        f"{format_money(payout.amount.minor, payout.amount.currency)} → {payout.destination}"
        for payout in payouts]
    fallbacks = list(dict.fromkeys(payout.fallback for payout in payouts if payout.fallback))
    return ["\n".join(lines), *fallbacks]


def after_final_no(case: Any, language: str) -> list[str]:
    """What a customer reads once the desk's "no" is final: that the desk is done, and the
    merchant's text on where they may turn (recourse/texts.py); nothing for other cases."""
    final = final_no(case, language)
    if final is None:
        return []
    return [_("Our part in handling this refund request is over: it cannot be appealed "
              "again with us."),
            _("If you still disagree: %(where)s") % {"where": final.recourse}]


def _role_names(roles: list[str]) -> str:
    from refunddesk.core.staff import role_label

    # TRANSLATORS: between the items of a list (Chinese uses 、).
    return _(", ").join(str(role_label(role)) for role in roles) if roles else _("none")


def _staff_paragraphs(delivery: EmailDelivery) -> tuple[str, list[str]]:
    change = _about(delivery.role_change, delivery, "role change")
    member = change.member.get_username()
    by = change.changed_by.get_username() if change.changed_by else _("the command line")
    return (_("Roles of %(member)s changed") % {"member": member}, [
        _("%(by)s changed the roles of %(member)s in the %(source)s on %(at)s.")
        % {"by": by, "member": member, "source": change.get_source_display(),
           "at": timezone.localtime(change.at).strftime("%Y-%m-%d %H:%M %Z")},
        _("Before: %(roles)s.") % {"roles": _role_names(change.roles_before)},
        _("Now: %(roles)s.") % {"roles": _role_names(change.roles_after)},
        _("You are told as an admin of this desk. If you did not expect this change, look "
          "into it: roles decide who may approve and pay refunds."),
    ])


def submitted_together(delivery: EmailDelivery) -> list[RefundCase]:
    """The cases a "received" e-mail names when one submission opened several (lines
    under different refund policies), and a compensation e-mail when a run opened several
    for the customer (lines of several orders); empty for every other e-mail."""
    if delivery.kind not in ("submitted", "compensated") or delivery.case is None:
        return []
    together = delivery.case.submitted_together()
    return together if len(together) > 1 else []


def _case_summary(case: Any) -> str:
    """One case of a submission: its number, what it is for, and what happens next."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    products = list(dict.fromkeys(
        line.order_line.product.name_for(language)
        for line in sorted(case.lines.all(), key=lambda line: line.pk)))
    is_approved = case.approved_total_minor is not None
    minor = case.approved_total_minor if is_approved else case.assessed_total_minor
    values = {"number": case.tracking_number, "products": _(", ").join(products),
              "money": format_money(minor, case.currency)}
    if is_approved:
        return _("%(number)s — %(products)s: approved at once; %(money)s will be paid "
                 "back.") % values
    return _("%(number)s — %(products)s: an agent reviews it; the refund policy suggests "
             "%(money)s.") % values


def _submission_paragraphs(case: Any, together: list[RefundCase]) -> tuple[str, list[str]]:
    count = len(together)
    numbers = _(", ").join(other.tracking_number for other in together)
    return (_("We have received your refund requests %(numbers)s") % {"numbers": numbers}, [
        _("Thank you. We have received your request for a refund on order %(order)s.")
        % {"order": case.order.external_id},
        ngettext("The lines you chose fall under %(count)d different refund policies, so "
                 "they became %(count)d separate requests, each with its own tracking number "
                 "and decided on its own:",
                 "The lines you chose fall under %(count)d different refund policies, so "
                 "they became %(count)d separate requests, each with its own tracking number "
                 "and decided on its own:", count) % {"count": count},
        *[_case_summary(other) for other in together],
        _("Keep these numbers: you can follow each request with its number at any time, "
          "without logging in."),
    ])


def _by_email(case: Any) -> list[str]:
    """What the answer to a request by e-mail adds: the quote, the material the policy asks
    for, and the attachments that could not be accepted (the sender cannot see the portal's
    page to find out)."""
    lines = [_case_summary(case)]
    documents = case.assessment.get("documents_required") or []
    if documents:
        lines.append(_("The refund policy asks for: %(documents)s. Reply to this e-mail with "
                       "them attached.") % {"documents": "; ".join(
                           document_label(code) for code in documents)})
    first = case.inbound_mail.order_by("received_at").first()
    if first is not None and first.refused_attachments:
        lines.append(refused_sentence(first.refused_attachments))
    return lines


def _compensation_paragraphs(case: Any, together: list[RefundCase]) -> tuple[str, list[str]]:
    """A mass compensation's cases for the customer: the desk's message once, then each
    case with its number, what it gives and, line by line, why (its decision note)."""
    message = (case.assessment.get("compensation") or {}).get("message", "")
    lines = [_("A disruption of our service affected you, and we are sorry for it. We have "
               "compensated you as follows; there is nothing you need to do.")]
    if message:
        lines.append(message)
    for other in together or [case]:
        values = {"number": other.tracking_number, "order": other.order.external_id,
                  "money": format_money(other.approved_total_minor or 0, other.currency)}
        if other.approved_total_minor:
            lines.append(_("%(number)s — order %(order)s: %(money)s, on its way to you.")
                         % values)
        else:
            lines.append(_("%(number)s — order %(order)s: your service is extended, at no "
                           "charge.") % values)
        if other.decision_note:
            lines.append(other.decision_note)
    lines.append(_("You can follow each with its tracking number at any time, without "
                   "logging in."))
    return _("Compensation for a disruption of our service"), lines


def _paragraphs(delivery: EmailDelivery, together: list[RefundCase]) -> tuple[str, list[str]]:
    if delivery.role_change_id is not None:
        return _staff_paragraphs(delivery)
    case = _about(delivery.case, delivery, "case")
    if delivery.kind == "compensated":
        return _compensation_paragraphs(case, together)
    if together:
        return _submission_paragraphs(case, together)
    number = case.tracking_number
    money = format_money(case.approved_total_minor if case.approved_total_minor is not None
                         else case.assessed_total_minor, case.currency)
    kind = delivery.kind
    if kind == "submitted":
        lines = [
            _("Thank you. We have received your request for a refund on order %(order)s.")
            % {"order": case.order.external_id},
            _("Your tracking number is %(number)s. Keep it: you can follow your request with "
              "it at any time, without logging in.") % {"number": number},
        ]
        if case.channel == "email":
            lines += _by_email(case)
        return (_("We have received your refund request %(number)s") % {"number": number},
                lines)
    if kind == "info_requested":
        # The customer's time zone is unknown: say which one the time is in.
        due = (timezone.localtime(case.info_due).strftime("%Y-%m-%d %H:%M ")
               + f"({timezone.get_current_timezone_name()})") if case.info_due else ""
        question = asked_question(case)
        lines = [_("To decide on your refund request %(number)s we need more information "
                   "from you.") % {"number": number}]
        if question:
            lines.append(question)
        if case.requested_documents:
            lines.append(_("Please send: %(documents)s.") % {"documents": "; ".join(
                document_label(code) for code in case.requested_documents)})
        if due:
            lines.append(_("Please answer by %(due)s, or the request will be closed.")
                         % {"due": due})
        lines.append(_("Answer on your request's page, where each document asked for has "
                       "its own place: %(link)s") % {"link": case_link(case)})
        return (_("Your refund request %(number)s needs more information") % {"number": number},
                lines)
    if kind in ("decided", "appeal_decided"):
        if case.approved_total_minor:
            subject = _("Your refund of %(money)s is approved") % {"money": money}
            lines = [_("Your refund request %(number)s is approved: %(money)s will be paid "
                       "back.") % {"number": number, "money": money}]
            if case.approved_total_minor < case.assessed_total_minor and case.decision_note:
                lines.append(case.decision_note)
        else:
            subject = _("Your refund request %(number)s was not approved") % {"number": number}
            lines = [_("We have looked at your refund request %(number)s and cannot approve "
                       "it.") % {"number": number}]
            if case.decision_note:
                lines.append(case.decision_note)
            if kind == "decided":
                lines.append(_("If you disagree, you can appeal from the request's page with "
                               "new evidence."))
            else:
                lines += after_final_no(case, delivery.language)
        return subject, lines
    if kind == "decision_final":
        return (_("The decision on your refund request %(number)s is final")
                % {"number": number}, [
            _("The time to appeal the decision on your refund request %(number)s has "
              "passed, so the decision is final.") % {"number": number},
            *after_final_no(case, delivery.language)])
    if kind == "appeal_received":
        return (_("We have received your appeal on %(number)s") % {"number": number}, [
            _("A reviewer who did not make the first decision will look at your refund "
              "request %(number)s again.") % {"number": number}])
    if kind == "paid":
        return (_("Your refund of %(money)s has been paid") % {"money": money}, [
            _("The refund of %(money)s for request %(number)s has been paid.")
            % {"money": money, "number": number}, *where_it_went(case)])
    if kind == "message":
        last_message = (case.messages.filter(is_internal=False, author_kind="staff")
                        .order_by("-created_at", "-id").first())
        return (_("A message about your refund request %(number)s") % {"number": number}, [
            _("We have written to you about your refund request %(number)s:")
            % {"number": number},
            last_message.body if last_message else "",
            _("You can answer on the request's page.")])
    if kind == "closed":
        return (_("Your refund request %(number)s is closed") % {"number": number}, [
            _("We asked for more information on your refund request %(number)s and did not "
              "receive it by the deadline, so the request is closed.") % {"number": number},
            _("You can apply again at any time from your account.")])
    raise ValueError(f"no e-mail for {kind!r}")


def compose(delivery: EmailDelivery) -> tuple[str, str, str]:
    """(subject, text, html) for a delivery, in the language of the person it goes to."""
    if delivery.kind in (Kind.STAFF_NOTICE, Kind.STAFF_DIGEST):
        return staff_mail(delivery)
    together: list[RefundCase]
    with translation.override(delivery.language):
        if delivery.kind == Kind.MAIL_RECEIVED:
            subject, paragraphs = acknowledgement(
                _about(delivery.inbound_mail, delivery, "e-mail"), delivery.language)
            footer, together = _("RefundDesk — this is an automatic reply."), []
        elif delivery.kind == Kind.MAIL_ANSWERED:
            written = _about(delivery.mail_answer, delivery, "answer")
            subject = _("Re: %(subject)s") % {"subject": written.mail.subject or _("your e-mail")}
            paragraphs = [part.strip() for part in written.body.split("\n\n") if part.strip()]
            footer, together = "", []
        else:
            together = submitted_together(delivery)
            subject, paragraphs = _paragraphs(delivery, together)
            # With a reply address, a customer's reply lands on the case (intake).
            footer = (_("RefundDesk — reply to this e-mail to add a message to your "
                        "request.") if settings.REFUNDDESK_REPLY_ADDRESS else "")
        case = delivery.case
        context = {"subject": subject, "paragraphs": paragraphs, "case": case,
                   "footer": footer,
                   "tracking_link": tracking_link(case) if case else "",
                   # Every case of a grouped submission, each with its own link.
                   "cases": [{"tracking_number": other.tracking_number,
                              "tracking_link": tracking_link(other)}
                             for other in together],
                   "language": translation.get_language()}
        text = render_to_string("notifications/email.txt", context)
        html = render_to_string("notifications/email.html", context)
    return subject, text, html
