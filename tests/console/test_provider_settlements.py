"""Finance reconciles each provider's own statement file through the console's upload form:
Alipay's csv.zip bill, WeChat Pay's refund bill and PayPal's settlement report, each listing
a refund the provider made through its stand-in, come out matched."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from refunddesk.payouts import gateways
from refunddesk.payouts.models import Payout, PayoutState, Settlement
from refunddesk.payouts.runner import run_pass
from tests.console.case_builders import EN
from tests.payouts import paypal_cases, wechat_pay_cases
from tests.payouts.alipay_standin import AlipayStandIn
from tests.payouts.builders import approved_case
from tests.payouts.paypal_standin import PayPalStandIn
from tests.payouts.test_alipay_statement import bill_row, bill_zip
from tests.payouts.test_wechat_pay_statement import bill, detail
from tests.payouts.wechat_pay_standin import WeChatPayStandIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(staff_client):
    return staff_client("finance")

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(moment) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def alipay_file(settings) -> SimpleUploadedFile:
    with AlipayStandIn() as standin:
        settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"] = standin.gateway_options()
        gateways.reset()
        standin.add_payment("2026030122001404680500000001", 90000)
        case = approved_case(gateway="alipay", reference="2026030122001404680500000001")
        run_pass(case_ids=[case.pk])
    payout = Payout.objects.get(case=case)
    data = bill_zip([bill_row(number=payout.gateway_refund_id,
                              finished=beijing(payout.settled_at))])
    return SimpleUploadedFile("20880000000000000156_20260301.csv.zip", data,
                              content_type="application/zip")


def wechat_pay_file(settings) -> SimpleUploadedFile:
    with WeChatPayStandIn() as standin:
        wechat_pay_cases.use_standin(settings, standin)
        standin.add_payment("4200002026030112345678901234", 30000)
        case = wechat_pay_cases.wechat_case("VPN-WX-1", "4200002026030112345678901234")
        run_pass(case_ids=[case.pk])
    payout = Payout.objects.get(case=case)
    text = bill([detail(payout.gateway_refund_id, "300.00",
                        success_time=beijing(payout.settled_at),
                        out_refund_no=payout.idempotency_key)])
    return SimpleUploadedFile("refund-bill.csv", text.encode(), content_type="text/csv")


def paypal_file(settings) -> SimpleUploadedFile:
    with PayPalStandIn() as standin:
        paypal_cases.use_standin(settings, standin)
        standin.add_payment("7MS12345AB6789012", 3000)
        case = paypal_cases.paypal_case("VPN-PP-1", "7MS12345AB6789012")
        run_pass(case_ids=[case.pk])
        data = standin.settlement_report()
    return SimpleUploadedFile("STL-20260301.01.009.CSV", data, content_type="text/csv")


@pytest.mark.parametrize(("gateway", "paid_file"), [
    ("alipay", alipay_file), ("wechat_pay", wechat_pay_file), ("paypal", paypal_file)])
def test_finance_reconciles_a_providers_own_statement_through_the_console(
        finance_client, settings, gateway, paid_file):
    # given a refund the provider made, and the provider's file listing it
    upload = paid_file(settings)
    payout = Payout.objects.get(gateway=gateway)
    assert payout.state == PayoutState.SUCCEEDED

    # when finance uploads the file as the provider gave it
    response = finance_client.post(reverse("console:reconcile"),
                                   {"gateway": gateway, "file": upload}, headers=EN)

    # then it is imported and the refund matches our payout
    settlement = Settlement.objects.get(gateway=gateway)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"Settlement file {upload.name} is imported: 1 match, 0 differ, 0 missing from "
        "the file, 0 not ours."]
    assert settlement.lines.get().payout == payout
    assert settlement.period_start <= payout.settled_at + timedelta(seconds=1)
    assert timezone.is_aware(settlement.period_start)
