"""The mailboxes the worker reads, from REFUNDDESK_IMAP_MAILBOXES: one URL each, separated
by spaces, e.g. `imaps://refunds%40example.com:secret@imap.example.com/INBOX`.

- `imaps://` TLS from the start (port 993 unless given), `imap+starttls://` a plain
  connection upgraded with STARTTLS (port 143), `imap://` no encryption at all (only for a
  server on this machine, as in the tests).
- The password part is the password; with `?auth=oauth2` it is an OAuth 2 access token
  (XOAUTH2), as Gmail and Microsoft 365 require.
- The path is the folder (INBOX when empty). Percent-escape `@`, `:` and `/` in the user
  name and password.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = {"imaps": (993, "tls"), "imap+starttls": (143, "starttls"), "imap": (143, "none")}


class MailboxConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    security: str  # tls | starttls | none
    user: str
    secret: str
    folder: str = "INBOX"
    oauth2: bool = False

    @property
    def name(self) -> str:
        """How logs name it: never with the secret."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def mailbox_from_url(url: str) -> Mailbox:
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise MailboxConfigError(f"{parts.scheme or url!r}: a mailbox URL starts with "
                                 "imaps://, imap+starttls:// or imap://")
    default_port, security = SCHEMES[parts.scheme]
    if not parts.hostname or not parts.username or parts.password is None:
        raise MailboxConfigError("a mailbox URL names the host, the user and the password "
                                 "(or token): imaps://user:password@host/INBOX")
    try:
        port = parts.port or default_port
    except ValueError:
        raise MailboxConfigError(f"{url!r}: the port is not a number") from None
    query = parse_qs(parts.query)
    auth = query.get("auth", ["password"])[0]
    if auth not in {"password", "oauth2"}:
        raise MailboxConfigError(f"auth={auth}: use auth=password or auth=oauth2")
    return Mailbox(host=parts.hostname, port=port, security=security,
                   user=unquote(parts.username), secret=unquote(parts.password),
                   folder=unquote(parts.path.lstrip("/")) or "INBOX", oauth2=auth == "oauth2")


def mailboxes_from_setting(value: str) -> list[Mailbox]:
    return [mailbox_from_url(url) for url in value.split()]
