"""The queue (placeholder until the queue page lands)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from refunddesk.console.access import staff_required


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "console/base.html", {})


urls = [path("", queue, name="queue")]
