"""WeChat Pay API v3 over HTTP: the merchant's signature on each request, WeChat Pay's
signature checked on each answer.

Our own small client, not `wechatpayv3`'s: the SDK sends every call to a base URL it keeps
in a private attribute (`Core._gate_way`), with module-level `requests` calls and no session
or transport to hand it, so there is no public way to point it anywhere but WeChat Pay's
production host (see docs/payouts.md#wechat-pay). The two calls RefundDesk makes are small;
the signature scheme is WeChat Pay's documented one:

- request: `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,
  timestamp=…,serial_no=…`, the signature SHA256withRSA (PKCS#1 v1.5) with the merchant's
  API key over `METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n`;
- answer: `Wechatpay-Signature` over `timestamp\\nnonce\\nbody\\n` with WeChat Pay's public
  key, named by `Wechatpay-Serial` (its public key id).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from base64 import b64decode, b64encode
from binascii import Error as Base64Error
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from urllib3.exceptions import ConnectTimeoutError

log = logging.getLogger(__name__)

SCHEME = "WECHATPAY2-SHA256-RSA2048"
USER_AGENT = "RefundDesk (WeChat Pay API v3 client)"


class Unreachable(Exception):
    """The request never reached WeChat Pay (refused, unresolvable, no connection in
    time): it cannot have been acted on."""


class NoAnswer(Exception):
    """The request may have reached WeChat Pay, but no answer came back in time."""


class Unverified(Exception):
    """An answer whose signature does not hold: nothing in it can be trusted."""


@dataclass(frozen=True)
class Answer:
    status: int
    data: dict[str, Any]
    request_id: str = ""

    @property
    def code(self) -> str:
        return str(self.data.get("code") or "")

    @property
    def message(self) -> str:
        return str(self.data.get("message") or self.code or f"HTTP {self.status}")


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(_pem(text, "PRIVATE KEY"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant's API key is not an RSA key")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(_pem(text, "PUBLIC KEY"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("WeChat Pay's public key is not an RSA key")
    return key


def _pem(text: str, kind: str) -> bytes:
    """WeChat Pay's console hands out PEM files; a key pasted without its armour lines (as
    some operators store it in an environment variable) is accepted too."""
    text = text.strip()
    if not text.startswith("-----BEGIN"):
        text = f"-----BEGIN {kind}-----\n{text}\n-----END {kind}-----"
    return text.encode("ascii")


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    return b64encode(private_key.sign(message.encode("utf-8"), padding.PKCS1v15(),
                                      hashes.SHA256())).decode("ascii")


def verify(public_key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(b64decode(signature, validate=True), message, padding.PKCS1v15(),
                          hashes.SHA256())
    except (InvalidSignature, Base64Error, ValueError):
        return False
    return True


def signed_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """What WeChat Pay signs in an answer or a notification."""
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


class WeChatPayClient:
    def __init__(self, *, mchid: str, cert_serial_no: str, private_key: rsa.RSAPrivateKey,
                 public_key: rsa.RSAPublicKey, public_key_id: str, api_base: str,
                 timeout: float):
        self.mchid, self.cert_serial_no = mchid, cert_serial_no
        self.private_key, self.public_key = private_key, public_key
        self.public_key_id = public_key_id
        self.api_base, self.timeout = api_base.rstrip("/"), timeout

    def authorization(self, method: str, path: str, body: str) -> str:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16).upper()
        signature = sign(self.private_key, f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")
        return (f'{SCHEME} mchid="{self.mchid}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{timestamp}",serial_no="{self.cert_serial_no}"')

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Answer:
        """One signed call; the verified answer. Raises Unreachable, NoAnswer, Unverified."""
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False,
                                                     separators=(",", ":"))
        headers = {
            "Authorization": self.authorization(method, path, body),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            # In public-key mode WeChat Pay asks for the key's id with every request.
            "Wechatpay-Serial": self.public_key_id,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            # No retries of our own (requests makes none): a repeated POST is the runner's
            # decision, taken after asking.
            response = requests.request(method, self.api_base + path, headers=headers,
                                        data=body.encode("utf-8") if body else None,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.ConnectTimeout as error:
            raise Unreachable(str(error)) from error
        except requests.ConnectionError as error:
            if _before_sending(error):
                raise Unreachable(str(error)) from error
            raise NoAnswer(str(error)) from error
        except requests.Timeout as error:
            raise NoAnswer(str(error)) from error
        except requests.RequestException as error:
            raise NoAnswer(str(error)) from error
        return self._verified(response)

    def _verified(self, response: requests.Response) -> Answer:
        request_id = response.headers.get("Request-ID", "")
        # WeChat Pay signs its answer only to a request whose signature it accepted: a 401
        # comes unsigned, and says only that nothing was done.
        if response.status_code != 401:
            timestamp = response.headers.get("Wechatpay-Timestamp", "")
            nonce = response.headers.get("Wechatpay-Nonce", "")
            signature = response.headers.get("Wechatpay-Signature", "")
            serial = response.headers.get("Wechatpay-Serial", "")
            if serial != self.public_key_id:
                raise Unverified(f"the answer (HTTP {response.status_code}, request "
                                 f"{request_id or '?'}) is signed with key {serial!r}, not "
                                 f"WeChat Pay's public key {self.public_key_id!r}")
            if not (timestamp and nonce and signature and verify(
                    self.public_key, signed_message(timestamp, nonce, response.content),
                    signature)):
                raise Unverified(f"the signature of the answer (HTTP {response.status_code}, "
                                 f"request {request_id or '?'}) does not hold")
        try:
            data = json.loads(response.content) if response.content else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return Answer(response.status_code, data, request_id)


def _before_sending(error: requests.ConnectionError) -> bool:
    """Whether the connection failed before our request left (refused, unresolvable, timed
    out while connecting): then WeChat Pay cannot have taken it."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, ConnectTimeoutError)
