"""Placeholder until the console's case page lands."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from refunddesk.console.access import staff_required


@staff_required
def case_page(request: HttpRequest, tracking_number: str) -> HttpResponse:
    return render(request, "console/base.html", {})


urls = [path("cases/<str:tracking_number>", case_page, name="case")]
