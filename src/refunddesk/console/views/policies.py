"""Placeholder until this console page lands."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from refunddesk.console.access import staff_required


@staff_required
def policies(request: HttpRequest) -> HttpResponse:
    return render(request, "console/base.html", {})


urls = [path("policies/", policies, name="policies")]
