"""A request by e-mail in the documented format (docs/email.md), for a given customer and
order: what `refunddesk demo` writes for trying the intake with a demo customer."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid


def request_in_format(*, sender: str, name: str, account_id: str, order_id: str,
                      reason: str = "不再需要 / No longer needed") -> bytes:
    message = EmailMessage()
    message["From"] = formataddr((name, sender))
    message["To"] = "refunds@desk.example"
    message["Subject"] = f"退款申请 / Refund request: {order_id}"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example.com")
    message.set_content(f"您好，\n\n账户 / Account: {account_id}\n订单 / Order: {order_id}\n"
                        f"原因 / Reason: {reason}\n\n{name}\n")
    return bytes(message)
