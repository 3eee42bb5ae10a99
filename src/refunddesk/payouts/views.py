"""The one page of payouts that faces the outside: where providers post their refund
notifications. No session, no CSRF token (a provider has neither): the adapter's signature
check is the only door, and it runs before anything of the body is read (notices.py)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from refunddesk.payouts.notices import NoSuchEndpoint, receive

# Providers' notifications are a few kilobytes; anything much larger is not one.
MAX_BYTES = 256 * 1024


@csrf_exempt
@require_POST
def notify(request: HttpRequest, name: str) -> HttpResponse:
    length = request.headers.get("Content-Length") or "0"
    if not (length.isascii() and length.isdigit()) or len(length) > 9 or int(length) > MAX_BYTES:
        return HttpResponse("notification too large", status=413,
                            content_type="text/plain; charset=utf-8")
    body = request.body
    try:
        received = receive(name, body, request.headers)
    except NoSuchEndpoint:
        raise Http404("no gateway of that name takes notifications") from None
    answer = received.acknowledgement
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
