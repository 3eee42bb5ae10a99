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
    message.add_attachment(receipt_pdf(order_id), maintype="application", subtype="pdf",
                           filename="receipt.pdf")
    return bytes(message)


def receipt_pdf(order_id: str) -> bytes:
    """A one-page PDF naming the order: the payment proof the example attaches."""
    text = f"Payment receipt for order {order_id}".replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)
