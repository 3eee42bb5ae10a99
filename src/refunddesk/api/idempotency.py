"""`Idempotency-Key` on the API's POSTs, with Stripe's semantics.

The same key with the same request gives the stored answer again (header
`Idempotent-Replayed: true`); the same key with another request is refused (422
`idempotency_key_reused`); the same key while its first request still runs is refused
(409 `idempotency_key_in_use`). Keys belong to the API key that sent them and are kept for
24 hours.

A key is claimed in its own short transaction, so a second request sees the claim at once.
The operation and the stored answer then commit together: if the process dies in between,
neither happened, and once the claim is older than CLAIM_TIMEOUT the key may be used
again. An answer the server failed to give (5xx) is not stored, and the key is given back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.api.errors import UNREADABLE, is_api, json_error, unreadable_response
from refunddesk.api.keys import digest
from refunddesk.api.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
KEPT_FOR = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(minutes=5)


def fingerprint(request: HttpRequest) -> str:
    """The request as far as idempotency is concerned: method, path, query and body (JSON
    bodies compared by content, not by spacing or key order; file uploads by their fields
    and files, not by the random boundary a client draws for each attempt).

    Reading the body raises what Django raises for a body it cannot read (errors.UNREADABLE:
    too large, too many fields or files, malformed multipart)."""
    if request.content_type == "multipart/form-data":
        body = _multipart_digest(request)
    else:
        body = request.body
        with contextlib.suppress(ValueError, UnicodeDecodeError):  # not JSON: the bytes
            body = json.dumps(json.loads(body), sort_keys=True,
                              separators=(",", ":")).encode()
    parts = [request.method or "", request.path, request.META.get("QUERY_STRING", "")]
    return hashlib.sha256("\n".join(parts).encode() + b"\n" + body).hexdigest()


def _multipart_digest(request: HttpRequest) -> bytes:
    fields = sorted((name, values) for name, values in request.POST.lists())
    files = []
    for name, uploads in sorted(request.FILES.lists()):
        for upload in uploads:
            content = hashlib.sha256()
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            files.append([name, upload.name, content.hexdigest()])
    return json.dumps({"fields": fields, "files": files}, sort_keys=True).encode()


def _error(status: int, code: str, message: str) -> HttpResponse:
    return json_error(status, code, message, "Idempotency-Key")


def _owner(request: HttpRequest) -> str:
    """Whose key it is: a fingerprint of the credentials sent, so two API keys never share
    an idempotency key (and a bad credential gets its own, harmless, space)."""
    return digest(request.META.get("HTTP_AUTHORIZATION", ""))


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if key is None or request.method != "POST" or not is_api(request):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(422, "invalid", _("An Idempotency-Key is 1 to 255 printable "
                                            "characters."))
        try:
            print_ = fingerprint(request)
        except UNREADABLE as error:
            # A body Django cannot read is refused here, where it is first read, in the
            # API's error shape; the key is not claimed, so it stays free for the request
            # sent again as it should be.
            return unreadable_response(request, error)
        owner = _owner(request)
        now = timezone.now()
        claim = self._claim(owner, key, print_, now)
        if isinstance(claim, HttpResponse):
            return claim
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 500 or response.status_code == 401:
                # Not an answer to keep: the server failed, or the caller was not known.
                transaction.set_rollback(True)
            else:
                IdempotencyRecord.objects.filter(pk=claim.pk).update(
                    is_done=True, status_code=response.status_code,
                    response_body=response.content.decode("utf-8", errors="replace"),
                    content_type=response.get("Content-Type", ""))
        if response.status_code >= 500 or response.status_code == 401:
            IdempotencyRecord.objects.filter(pk=claim.pk, is_done=False).delete()
        return response

    def _claim(self, owner: str, key: str, print_: str, now: datetime
               ) -> IdempotencyRecord | HttpResponse:
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(
                        owner=owner, key=key, fingerprint=print_, created_at=now)
            except IntegrityError:
                pass
            earlier = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if earlier is None:
                continue  # purged or given back a moment ago: claim again
            if not earlier.is_done and earlier.created_at < now - CLAIM_TIMEOUT:
                # Its request died without an answer, and nothing of it was committed: the
                # key never answered anything, so it is free again.
                IdempotencyRecord.objects.filter(pk=earlier.pk, is_done=False).delete()
                continue
            if earlier.fingerprint != print_:
                return _error(422, "idempotency_key_reused", _(
                    "This Idempotency-Key was used with a different request. Use a new key "
                    "for a new request."))
            if earlier.is_done:
                replay = HttpResponse(earlier.response_body, status=earlier.status_code,
                                      content_type=earlier.content_type or None)
                replay["Idempotent-Replayed"] = "true"
                return replay
            return _error(409, "idempotency_key_in_use", _(
                "A request with this Idempotency-Key is still running. Retry when it has "
                "answered."))
        return _error(409, "idempotency_key_in_use", _(
            "A request with this Idempotency-Key is still running. Retry when it has "
            "answered."))


def purge(now: datetime | None = None) -> int:
    """Forget keys older than 24 hours (the periodic sweep calls this)."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
