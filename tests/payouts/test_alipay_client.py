"""Our Alipay client's signing and answer verification, as Alipay documents them (RSA2 over
the sorted parameters; the answer's signature over its response object's exact text)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from refunddesk.payouts.gateways.alipay_client import (
    AlipayClient,
    KeyProblem,
    UntrustedAnswer,
    load_private_key,
    load_public_key,
    read_answer,
    sign,
    signing_text,
    top_level_members,
)
from tests.payouts.alipay_standin import key_pair, private_pem, public_pem

METHOD = "alipay.trade.refund"


def alipay_public():
    return load_public_key(public_pem(key_pair("alipay")))


def answer_body(inner_text: str, *, signed_text: str | None = None, role: str = "alipay"
                ) -> bytes:
    signature = sign(inner_text if signed_text is None else signed_text, key_pair(role))
    return (f'{{"alipay_trade_refund_response": {inner_text}, "sign": "{signature}"}}'
            .encode())


def client(**changes) -> AlipayClient:
    options = {"app_id": "2021000000000001",
               "private_key": load_private_key(private_pem(key_pair("merchant"))),
               "alipay_key": alipay_public(), "server_url": "http://127.0.0.1:9/gateway.do",
               "timeout": 1.0, **changes}
    return AlipayClient(**options)


def test_the_signed_text_is_the_sorted_non_empty_parameters_without_the_signature():
    params = {"method": "alipay.trade.refund", "app_id": "1", "sign": "xyz", "notify_url": "",
              "biz_content": '{"a":"退款"}', "charset": "utf-8"}
    assert signing_text(params) == ('app_id=1&biz_content={"a":"退款"}&charset=utf-8'
                                    '&method=alipay.trade.refund')


def test_a_request_carries_the_common_parameters_in_beijing_time_signed_rsa2():
    # given a request made at 02:00 UTC
    params = client().params(METHOD, {"out_request_no": "refunddesk-payout-1",
                                      "refund_amount": "12.34"},
                             now=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    # then its timestamp is 10:00 in Beijing, and its signature verifies with the
    # merchant's public key over the sorted parameters (SHA256withRSA, PKCS#1 v1.5)
    assert {name: params[name] for name in ("format", "charset", "sign_type", "version",
                                             "timestamp")} == {
        "format": "JSON", "charset": "utf-8", "sign_type": "RSA2", "version": "1.0",
        "timestamp": "2026-03-01 10:00:00"}
    assert json.loads(params["biz_content"]) == {"out_request_no": "refunddesk-payout-1",
                                                 "refund_amount": "12.34"}
    key_pair("merchant").public_key().verify(
        base64.b64decode(params["sign"]), signing_text(params).encode(), padding.PKCS1v15(),
        hashes.SHA256())


def test_an_answer_is_verified_over_its_exact_text_not_a_re_serialisation():
    # given an answer written with spaces and unescaped Chinese, signed as written
    inner = '{"code": "40004", "msg": "Business Failed", "sub_msg": "交易已完结"}'
    # when it is read, then it holds
    answer = read_answer(answer_body(inner), METHOD, alipay_public())
    assert answer.is_signed and answer.body["sub_msg"] == "交易已完结"
    # and a signature over the compact form of the same object does not
    compact = json.dumps(json.loads(inner), separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(UntrustedAnswer):
        read_answer(answer_body(inner, signed_text=compact), METHOD, alipay_public())


def test_an_answer_changed_after_alipay_signed_it_is_not_believed():
    signed = '{"code": "10000", "fund_change": "N"}'
    changed = '{"code": "10000", "fund_change": "Y"}'
    with pytest.raises(UntrustedAnswer, match="signature"):
        read_answer(answer_body(changed, signed_text=signed), METHOD, alipay_public())


def test_an_answer_signed_with_another_key_is_not_believed():
    inner = '{"code": "10000", "fund_change": "Y"}'
    with pytest.raises(UntrustedAnswer):
        read_answer(answer_body(inner, role="forger"), METHOD, alipay_public())


def test_an_unsigned_success_is_not_believed_but_an_unsigned_gateway_error_is():
    unsigned_success = b'{"alipay_trade_refund_response": {"code": "10000", "fund_change": "Y"}}'
    with pytest.raises(UntrustedAnswer, match="not signed"):
        read_answer(unsigned_success, METHOD, alipay_public())
    unsigned_refusal = (b'{"alipay_trade_refund_response": {"code": "40004", '
                        b'"sub_code": "ACQ.TRADE_HAS_FINISHED"}}')
    with pytest.raises(UntrustedAnswer):
        read_answer(unsigned_refusal, METHOD, alipay_public())
    bad_signature = (b'{"alipay_trade_refund_response": {"code": "40002", '
                     b'"sub_code": "isv.invalid-signature"}}')
    answer = read_answer(bad_signature, METHOD, alipay_public())
    assert (answer.code, answer.sub_code, answer.is_signed) == (
        "40002", "isv.invalid-signature", False)


def test_an_answer_naming_its_response_object_twice_is_not_believed():
    inner = '{"code": "10000"}'
    signature = sign(inner, key_pair("alipay"))
    body = (f'{{"alipay_trade_refund_response": {inner}, "alipay_trade_refund_response": '
            f'{{"code": "10000", "fund_change": "Y"}}, "sign": "{signature}"}}').encode()
    with pytest.raises(UntrustedAnswer, match="twice"):
        read_answer(body, METHOD, alipay_public())


@pytest.mark.parametrize("body", [b"", b"<html>502 Bad Gateway</html>", b"[1, 2]",
                                  b'{"other_response": {"code": "10000"}}', b"\xff\xfe"])
def test_something_that_is_not_an_alipay_answer_is_not_believed(body):
    with pytest.raises(UntrustedAnswer):
        read_answer(body, METHOD, alipay_public())


def test_the_members_of_an_answer_keep_their_exact_text():
    text = '{ "a_response" : {"x": [1, "}"] , "y": "\\u9000"} ,"sign":"s" }'
    members = top_level_members(text)
    assert members["a_response"][1] == '{"x": [1, "}"] , "y": "\\u9000"}'
    assert members["sign"] == ("s", '"s"')


def test_keys_are_taken_as_pem_or_as_the_bare_base64_alipay_shows():
    merchant = key_pair("merchant")
    bare_private = base64.b64encode(merchant.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())).decode()
    bare_public = base64.b64encode(merchant.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    assert load_private_key(bare_private).private_numbers() == merchant.private_numbers()
    assert load_public_key(bare_public).public_numbers() == merchant.public_key(
    ).public_numbers()
    with pytest.raises(KeyProblem, match="private key"):
        load_private_key("not a key")
    with pytest.raises(KeyProblem, match="public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
