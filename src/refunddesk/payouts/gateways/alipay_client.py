"""A small client of Alipay's OpenAPI gateway (`gateway.do`), for the two calls RefundDesk
makes: `alipay.trade.refund` and `alipay.trade.fastpay.refund.query`.

Why our own and not an SDK: the official `alipay-sdk-python` connects to port 80/443
whatever port its server URL names, and `python-alipay-sdk` has no public way to set its
gateway URL; either would need a private attribute or a patched library to reach a test
stand-in or a proxy (docs/payouts.md#alipay). The protocol is small and documented:

- A request is a form-encoded POST of the common parameters (app_id, method, format,
  charset, sign_type, timestamp in Beijing time, version) and `biz_content` (JSON), signed
  RSA2: SHA256withRSA (PKCS#1 v1.5) over the parameters sorted by name as `k=v` joined by
  `&`, leaving out `sign` and empty values, in base64.
- The answer is JSON: `{"<method with _ for .>_response": {...}, "sign": "..."}`; the sign
  is Alipay's signature of the exact text of the response object as it stands in the body.
  It is verified over that text, never over a re-serialisation (which could differ in
  spacing, escaping or key order and so fail, or worse, hide a change).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

BEIJING = ZoneInfo("Asia/Shanghai")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
CHARSET = "utf-8"


class KeyProblem(ValueError):
    """A key that cannot be read as RSA (a wrong file, a truncated paste)."""


class TransportError(Exception):
    """The request could not be completed. `was_sent`: whether it may have reached Alipay
    (a timeout or a broken connection after sending) or certainly did not (refused,
    unresolvable, timed out while connecting)."""

    def __init__(self, message: str, *, was_sent: bool):
        super().__init__(message)
        self.was_sent = was_sent


class UntrustedAnswer(Exception):
    """An answer whose signature does not hold, or that has no signature where Alipay
    signs, or that is not an Alipay answer at all: nothing in it can be believed."""


@dataclass(frozen=True)
class Answer:
    """The response object of one call. `is_signed`: its signature was checked and holds;
    False only for an unsigned gateway error (Alipay does not sign those)."""

    method: str
    body: dict[str, Any]
    is_signed: bool

    @property
    def code(self) -> str:
        return str(self.body.get("code") or "")

    @property
    def sub_code(self) -> str:
        # Alipay writes some business codes with the gateway's prefix (aop.ACQ.SYSTEM_ERROR).
        return str(self.body.get("sub_code") or "").removeprefix("aop.")

    @property
    def message(self) -> str:
        return str(self.body.get("sub_msg") or self.body.get("msg") or "")


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """The merchant's RSA private key: PEM (PKCS#8 or PKCS#1), or the bare base64 that
    Alipay's key tool writes."""
    data = text.strip()
    try:
        if data.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(data.encode(), password=None)
        else:
            key = serialization.load_der_private_key(_base64(data), password=None)
    except (ValueError, TypeError) as error:
        raise KeyProblem(f"the private key cannot be read ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyProblem("the private key is not an RSA key (RSA2 needs one)")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """Alipay's public key: PEM, or the bare base64 the Alipay console shows."""
    data = text.strip()
    try:
        if data.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(data.encode())
        else:
            key = serialization.load_der_public_key(_base64(data))
    except (ValueError, TypeError) as error:
        raise KeyProblem(f"Alipay's public key cannot be read ({error})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyProblem("Alipay's public key is not an RSA key")
    return key


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as error:
        raise ValueError(f"neither PEM nor base64: {error}") from None


def signing_text(params: dict[str, str]) -> str:
    """What RSA2 signs: every non-empty parameter but `sign`, sorted by name, `k=v`
    joined by `&`, values as they are (not URL-encoded)."""
    return "&".join(f"{name}={params[name]}" for name in sorted(params)
                    if name != "sign" and params[name] != "")


def sign(text: str, key: rsa.RSAPrivateKey) -> str:
    signature = key.sign(text.encode(CHARSET), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def is_valid_signature(data: bytes, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), data, padding.PKCS1v15(),
                   hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def top_level_members(text: str) -> dict[str, tuple[Any, str]]:
    """Each member of the JSON object `text` as (value, its exact text in `text`). A
    name given twice is refused: which of the two was signed could not be told."""
    decoder = json.JSONDecoder()
    members: dict[str, tuple[Any, str]] = {}

    def skip(position: int) -> int:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        return position

    position = skip(0)
    if not text.startswith("{", position):
        raise ValueError("not a JSON object")
    position = skip(position + 1)
    if text.startswith("}", position):
        return members
    while True:
        name, position = decoder.raw_decode(text, position)
        if not isinstance(name, str):
            raise ValueError("a member name is not a string")
        position = skip(position)
        if not text.startswith(":", position):
            raise ValueError("':' expected after a member name")
        start = skip(position + 1)
        value, position = decoder.raw_decode(text, start)
        if name in members:
            raise ValueError(f"the member {name!r} appears twice")
        members[name] = (value, text[start:position])
        position = skip(position)
        if text.startswith("}", position):
            if skip(position + 1) != len(text):
                raise ValueError("text after the JSON object")
            return members
        if not text.startswith(",", position):
            raise ValueError("',' or '}' expected")
        position = skip(position + 1)


# Gateway errors (wrong app id, bad request signature, no permission, rate limit) come
# without a signature: Alipay did not get as far as its business systems. They are
# believed only because each of them leads to asking again, never to an end.
UNSIGNED_CODES = frozenset({"20000", "20001", "40001", "40002", "40003", "40005", "40006"})


def read_answer(body: bytes, method: str, alipay_key: rsa.RSAPublicKey) -> Answer:
    """The verified response object of `method` in Alipay's answer `body`."""
    try:
        text = body.decode(CHARSET)
        members = top_level_members(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise UntrustedAnswer(f"the answer is not Alipay's JSON ({error})") from None
    name = response_key(method)
    if name not in members and "error_response" in members:
        name = "error_response"  # the method itself was not recognised
    if name not in members or not isinstance(members[name][0], dict):
        raise UntrustedAnswer(f"the answer has no {response_key(method)} object")
    value, raw = members[name]
    signature = members.get("sign", (None, ""))[0]
    if isinstance(signature, str) and signature:
        if not is_valid_signature(raw.encode(CHARSET), signature, alipay_key):
            raise UntrustedAnswer("the answer's signature does not hold with Alipay's "
                                  "public key")
        return Answer(method, value, is_signed=True)
    if str(value.get("code") or "") in UNSIGNED_CODES:
        return Answer(method, value, is_signed=False)
    raise UntrustedAnswer("the answer is not signed")


class AlipayClient:
    def __init__(self, *, app_id: str, private_key: rsa.RSAPrivateKey,
                 alipay_key: rsa.RSAPublicKey, server_url: str, timeout: float):
        self.app_id, self.private_key, self.alipay_key = app_id, private_key, alipay_key
        self.server_url, self.timeout = server_url, timeout
        # No retries by the HTTP library: a POST sent twice must be our decision, taken
        # with the same request number. requests' default adapter does not retry.
        self.session = requests.Session()

    def params(self, method: str, biz_content: dict[str, Any],
               now: datetime | None = None) -> dict[str, str]:
        moment = (now or datetime.now(UTC)).astimezone(BEIJING)
        params = {
            "app_id": self.app_id, "method": method, "format": "JSON", "charset": CHARSET,
            "sign_type": "RSA2", "timestamp": moment.strftime(TIMESTAMP_FORMAT),
            "version": "1.0",
            "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = sign(signing_text(params), self.private_key)
        return params

    def call(self, method: str, biz_content: dict[str, Any]) -> Answer:
        """Send one call and return its verified answer. TransportError when no answer
        came, UntrustedAnswer when one came that cannot be believed."""
        try:
            response = self.session.post(
                self.server_url, data=self.params(method, biz_content),
                headers={"Content-Type": f"application/x-www-form-urlencoded;charset={CHARSET}"},
                timeout=self.timeout)
        except requests.exceptions.RequestException as error:
            raise TransportError(f"{type(error).__name__}: {error}"[:500],
                                 was_sent=not never_sent(error)) from error
        if response.status_code != 200:
            # Alipay's gateway answers 200 even for errors: anything else came from
            # something in between, which may or may not have passed the request on.
            raise TransportError(f"HTTP {response.status_code} from {self.server_url}",
                                 was_sent=True)
        return read_answer(response.content, method, self.alipay_key)


def never_sent(error: requests.exceptions.RequestException) -> bool:
    """Whether the request certainly did not leave: the connection was refused, the name
    did not resolve, or connecting timed out. A read timeout or a connection broken after
    sending may have reached Alipay."""
    if isinstance(error, requests.exceptions.ConnectTimeout | requests.exceptions.InvalidURL
                  | requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return True
    if isinstance(error, requests.exceptions.ConnectionError) and error.args:
        reason = getattr(error.args[0], "reason", None)
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False
