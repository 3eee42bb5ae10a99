"""The demo's canned replies, so agents have some to insert from the first start."""

from __future__ import annotations

from django.utils import timezone

from refunddesk.replies.models import CannedReply

DEMO_REPLIES = (
    ("Refund on its way",
     "{customer_name}您好，您的退款申请 {tracking_number} 已批准，{amount} 将按原支付渠道退回，"
     "通常在 1-5 个工作日内到账。",
     "Dear {customer_name}, your refund request {tracking_number} is approved: {amount} goes "
     "back the way you paid, usually within 1-5 business days."),
    ("Outside the refund window",
     "{customer_name}您好，很遗憾，您的退款申请 {tracking_number} 已超出退款期限，"
     "我们无法退款。如有疑问，您可以在 15 天内提出申诉。",
     "Dear {customer_name}, we are sorry: your refund request {tracking_number} arrived after "
     "the refund window, so we cannot refund it. You may appeal within 15 days."),
    ("Need an invoice copy",
     "{customer_name}您好，为处理退款申请 {tracking_number}（金额 {amount}），"
     "请上传发票复印件。",
     "Dear {customer_name}, to handle your refund request {tracking_number} ({amount}), "
     "please upload a copy of the invoice."),
)


def ensure_demo_replies() -> None:
    """The demo's replies when there are none (an admin's own list stays as it is). Written
    directly: the demo is set up by nobody in particular."""
    if CannedReply.objects.exists():
        return
    now = timezone.now()
    CannedReply.objects.bulk_create(
        CannedReply(title=title, text_zh=zh, text_en=en, updated_at=now)
        for title, zh, en in DEMO_REPLIES)
