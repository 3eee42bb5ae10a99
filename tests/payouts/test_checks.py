"""`refunddesk check` refuses a gateway whose configuration cannot work."""

from __future__ import annotations

from refunddesk.payouts.checks import gateways_are_usable
from refunddesk.payouts.gateways.sandbox import SandboxGateway


class HalfConfigured(SandboxGateway):
    def configuration_problems(self):
        return ["EXAMPLE_KEY is set but EXAMPLE_SECRET is not"]


def test_the_shipped_gateways_pass_the_check_without_credentials():
    assert gateways_are_usable() == []


def test_a_gateway_that_cannot_be_built_is_an_error(settings):
    settings.REFUNDDESK_GATEWAYS["broken"] = {
        "BACKEND": "refunddesk.payouts.gateways.sandbox.SandboxGateway",
        "OPTIONS": {"no_such_option": 1}}

    [error] = gateways_are_usable()

    assert error.id == "payouts.E001"
    assert "gateway 'broken' cannot be set up" in error.msg


def test_a_gateway_names_what_is_wrong_with_its_options(settings):
    settings.REFUNDDESK_GATEWAYS["half"] = {
        "BACKEND": "tests.payouts.test_checks.HalfConfigured",
        "OPTIONS": settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]}

    [error] = gateways_are_usable()

    assert (error.id, error.msg) == (
        "payouts.E002", "gateway 'half': EXAMPLE_KEY is set but EXAMPLE_SECRET is not")


def test_half_a_set_of_wechat_pay_credentials_is_named(settings):
    settings.REFUNDDESK_GATEWAYS["wechat_pay"]["OPTIONS"].update(mchid="1900000109")

    [error] = gateways_are_usable()

    assert error.id == "payouts.E002"
    assert "gateway 'wechat_pay': WECHATPAY_APIV3_KEY" in error.msg
    assert "though WECHATPAY_MCHID is" in error.msg


def test_a_paypal_client_id_without_its_secret_is_named(settings):
    settings.REFUNDDESK_GATEWAYS["paypal"]["OPTIONS"].update(client_id="AbC123")

    [error] = gateways_are_usable()

    assert error.msg == ("gateway 'paypal': PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET must "
                         "be set together; only one of them is")
