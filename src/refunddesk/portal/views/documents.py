"""Downloading a case's document: to its customer and to staff, always as an attachment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_safe

from refunddesk.portal.permissions import NOT_A_CUSTOMER, document_for_viewer


@require_safe
@login_required
def download(request: HttpRequest, tracking_number: str, document_id: int
             ) -> HttpResponseBase:
    try:
        document = document_for_viewer(request.user, tracking_number, document_id)
    except PermissionDenied:
        return render(request, "portal/not_a_customer.html", {"message": NOT_A_CUSTOMER},
                      status=403)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("the stored file is missing") from None
    content_type = document.content_type
    if content_type == "text/plain":
        content_type += "; charset=utf-8"
    # Always a download, never shown inline: nothing uploaded runs in our origin.
    response = FileResponse(handle, as_attachment=True, filename=document.name,
                            content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
