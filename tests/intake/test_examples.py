"""The request by e-mail `refunddesk demo` writes: in the documented format, with a receipt
attached; piped in, it opens the customer's case with the receipt as a document."""

import pytest

from refunddesk.intake.examples import request_in_format
from refunddesk.intake.models import MailState, Source
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store
from tests.cases.conftest import AFTER_FIVE_DAYS

pytestmark = pytest.mark.django_db


def test_the_demo_example_opens_the_case_with_its_receipt(order):
    raw = request_in_format(sender="li.lei@example.com", name="李雷",
                            account_id="acct-1001", order_id="TC-20260301-0001")

    mail, _ = store(raw, source=Source.PIPE)
    mail = process(mail, now=AFTER_FIVE_DAYS)

    assert mail.state == MailState.OPENED_CASE and not mail.refused_attachments
    assert list(mail.case.documents.values_list("name", flat=True)) == ["receipt.pdf"]
    assert mail.case.reason_text == "不再需要 / No longer needed"
