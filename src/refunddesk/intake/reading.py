"""A received message as RefundDesk reads it, with the standard library's `email` package
(policy=default): who sent it, what it answers, its text (HTML turned into plain text, the
quoted earlier messages and signature of a reply removed), its attachments, and whether a
machine sent it. Nothing here touches the database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import getaddresses
from html.parser import HTMLParser

from mailparser_reply.parser import EmailReplyParser

# Chinese mail often declares GB2312 but holds GBK characters; GB18030 reads all of them.
CHARSET_READ_AS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
                   "cp936": "gb18030", "euc-cn": "gb18030", "big5": "big5hkscs"}

# An inline picture smaller than this is taken for a signature logo, not for material.
INLINE_IMAGE_MIN_BYTES = 20 * 1024

_CJK = re.compile(r"[\u3400-\u9fff]")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ReadMail:
    message_id: str
    in_reply_to: list[str]
    from_address: str
    from_name: str
    to_addresses: list[str]
    subject: str
    text: str  # the whole body as plain text
    reply: str  # the new part of it: quotes of earlier messages and the signature removed
    attachments: list[Attachment] = field(default_factory=list)
    automatic: str = ""  # why a machine sent it ("auto-submitted", "bounce", "list"), or ""
    failed_authentication: bool = False

    @property
    def language(self) -> str:
        """zh-hans when the text is mostly Chinese, else en."""
        sample = f"{self.subject}\n{self.reply or self.text}"
        letters = sum(ch.isalpha() for ch in sample)
        return "zh-hans" if letters and len(_CJK.findall(sample)) * 4 >= letters else "en"


def parse_message(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def read_mail(raw: bytes) -> ReadMail:
    message = parse_message(raw)
    senders = getaddresses([header(message, "From")])
    from_name, from_address = senders[0] if senders else ("", "")
    body_parts = _body_parts(message)
    text = "\n\n".join(filter(None, (_part_text(part) for part in body_parts))).strip()
    references = header(message, "In-Reply-To") + " " + header(message, "References")
    return ReadMail(
        message_id=header(message, "Message-ID").strip().strip("<>"),
        in_reply_to=[ref.strip("<>") for ref in references.split() if ref.strip("<>")],
        from_address=from_address.strip().lower(), from_name=from_name.strip(),
        to_addresses=[address.lower() for _name, address in getaddresses(
            [header(message, name) for name in ("To", "Cc", "Delivered-To",
                                                  "X-Original-To")]) if address],
        subject=" ".join(header(message, "Subject").split()),
        text=text, reply=reply_part(text),
        attachments=_attachments(message, set(map(id, body_parts))),
        automatic=automatic_reason(message, from_address),
        failed_authentication=_failed_authentication(message))


def header(message: Message, name: str) -> str:
    """A header as text, "" when missing or too broken to decode (RFC 2047 decoded)."""
    try:
        values = message.get_all(name) or []
        return " ".join(str(value) for value in values)
    except (ValueError, TypeError, IndexError, LookupError):
        return ""


def reply_part(text: str) -> str:
    """The part of a reply its sender wrote: earlier messages quoted below it (Outlook's
    "From:/发件人:" block, Gmail's "On … wrote:/…写道：") and the signature removed."""
    if not text:
        return ""
    try:
        found = EmailReplyParser(languages=["en", "zh"]).parse_reply(text=text)
    except (ValueError, IndexError, AttributeError):
        found = None
    return (found or text).strip()


def automatic_reason(message: Message, from_address: str) -> str:
    """Why this message came from a machine, "" when a person sent it: never answer those
    automatically (RFC 3834), or two robots write to each other forever."""
    auto = header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return "auto-submitted"
    local = from_address.split("@")[0].lower()
    if (local in {"mailer-daemon", "postmaster"}
            or message.get_content_type() == "multipart/report"):
        return "bounce"
    if header(message, "List-Id") or header(message, "Precedence").strip().lower() in {
            "bulk", "list", "junk"}:
        return "list"
    if header(message, "X-Autoreply") or header(message, "X-Autorespond"):
        return "auto-submitted"
    return ""


def _failed_authentication(message: Message) -> bool:
    # The receiving server's verdicts; any explicit failure sends the mail to a person.
    results = header(message, "Authentication-Results").lower()
    return bool(re.search(r"\b(spf|dkim|dmarc)=(fail|softfail|permerror)\b", results))


def _body_parts(message: EmailMessage) -> list[Message]:
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError, ValueError):
        body = None
    return [body] if body is not None else []


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = CHARSET_READ_AS.get(charset, charset)
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _part_text(part: Message) -> str:
    text = _payload_text(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_LINES.sub("\n\n", text).strip()


def _attachments(message: EmailMessage, body_ids: set[int]) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart() or id(part) in body_ids:
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename() or ""
        if disposition is None and not name:
            continue  # an alternative body (the HTML beside the plain text)
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        is_image = part.get_content_maintype() == "image"
        if disposition == "inline" and is_image and len(data) < INLINE_IMAGE_MIN_BYTES:
            continue  # a logo in a signature
        found.append(Attachment(name or f"attachment-{len(found) + 1}",
                                part.get_content_type(), data))
    return found


class _TextOfHtml(HTMLParser):
    """The text a reader sees of an HTML mail: no markup, scripts or styles; block elements
    on lines of their own. Only text comes out, so nothing of the HTML is ever rendered."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "blockquote", "pre", "hr"}
    SKIPPED = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
