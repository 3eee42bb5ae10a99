"""Reports at /console/reports/: every report of the desk for a range of days, each a chart
and its table, and their exports; the queue's and payouts page's lists as exports; the
staff member's own exports with their progress and download.

Reviewers, finance and admins see the whole desk; agents see their own figures (the
filters are narrowed by reports/permissions.py, so an agent's address with another
agent's id still shows only their own). Who may export what is decided by the export
subjects (reports/subjects.py, console/list_exports.py), checked again by the worker.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from refunddesk.cases.errors import NotPermitted
from refunddesk.console.access import console_view, staff_member
from refunddesk.console.list_exports import query_params
from refunddesk.console.report_forms import ReportFilterForm
from refunddesk.reports import catalogue, permissions
from refunddesk.reports import exports as report_exports
from refunddesk.reports.exporting import CONTENT_TYPES
from refunddesk.reports.exports import export_now, prepare, request_export
from refunddesk.reports.models import Export, ExportState
from refunddesk.reports.sections import Context
from refunddesk.reports.subjects import BadParameters
from refunddesk.reports.tables import Kind, shown

FORMATS = ("csv", "xlsx")

reports_viewer = console_view(check=permissions.can_see_reports,
                              message=_("Your role does not see reports."))
staff_viewer = console_view()


def _language() -> str:
    return get_language() or "en"


def _sections(context: Context) -> list[dict[str, Any]]:
    shown_sections = []
    for report in catalogue.REPORTS.values():
        for section in report.build(context):
            table = section.table
            shown_sections.append({
                "report": report, "table": table,
                "rows": [[{"text": shown(cell, column.kind),
                           "is_number": column.kind not in (Kind.TEXT, Kind.DATE,
                                                            Kind.DATETIME)}
                          for cell, column in zip(row, table.columns, strict=True)]
                         for row in table.rows],
                "chart": section.chart.spec() if section.chart else None,
                "chart_id": f"chart-{table.name}",
            })
    return shown_sections


@reports_viewer
@require_safe
def reports_page(request: HttpRequest) -> HttpResponse:
    # The bare address is this month: an empty form is valid and means the defaults.
    form = ReportFilterForm(request.GET, viewer=request.user)
    is_valid = form.is_valid()
    sees_all = permissions.sees_whole_desk(request.user)
    context: dict[str, Any] = {"form": form, "sees_all": sees_all, "sections": []}
    if not is_valid:
        return render(request, "console/reports/index.html", context, status=400)
    filters = permissions.narrowed(form.filters(), request.user)
    context.update(
        filters=filters,
        sections=_sections(Context(filters, timezone.now(), _language())),
        query=request.GET.urlencode(),
        export_formats=FORMATS)
    return render(request, "console/reports/index.html", context)


def _download(written_content: bytes, file_name: str, format: str) -> HttpResponse:
    response = HttpResponse(written_content, content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@reports_viewer
@require_safe
def report_export(request: HttpRequest, table: str, format: str) -> HttpResponse:
    if table not in catalogue.TABLES or format not in FORMATS:
        raise Http404(_("There is no such export."))
    form = ReportFilterForm(request.GET, viewer=request.user)
    if not form.is_valid():
        return HttpResponseBadRequest(_("The filters are not valid: correct them on the "
                                        "reports page first."))
    filters = permissions.narrowed(form.filters(), request.user)
    try:
        written = export_now(f"report:{table}", filters.as_params(), format,
                             actor=request.user, language=_language())
    except NotPermitted as error:
        raise PermissionDenied(str(error)) from error
    return _download(written.content, written.file_name, format)


def _list_export(request: HttpRequest, subject: str, format: str, back: str) -> HttpResponse:
    if format not in FORMATS:
        raise Http404(_("There is no such export."))
    params = query_params(request.GET if request.method == "GET" else _posted_query(request),
                          timezone.get_current_timezone())
    now = timezone.now()
    try:
        listing = prepare(subject, params, actor=request.user, now=now, language=_language())
    except NotPermitted as error:
        raise PermissionDenied(str(error)) from error
    except BadParameters as error:
        messages.error(request, str(error))
        return redirect(back)
    if listing.count <= report_exports.INLINE_ROWS:
        written = export_now(subject, params, format, actor=request.user,
                             language=_language(), now=now, listing=listing)
        return _download(written.content, written.file_name, format)
    if request.method == "POST":
        export = request_export(subject, params, format, actor=request.user,
                                language=_language(), now=now)
        return redirect("console:export", export_id=export.pk)
    return render(request, "console/reports/confirm_export.html", {
        "count": listing.count, "title": listing.title, "format": format,
        "query": request.GET.urlencode(), "back": back, "inline_rows": report_exports.INLINE_ROWS})


def _posted_query(request: HttpRequest) -> QueryDict:
    return QueryDict(request.POST.get("query", ""))


@staff_viewer
@require_http_methods(["GET", "POST"])
def case_export(request: HttpRequest, format: str) -> HttpResponse:
    return _list_export(request, "cases", format, reverse("console:queue"))


@staff_viewer
@require_http_methods(["GET", "POST"])
def payout_export(request: HttpRequest, format: str) -> HttpResponse:
    return _list_export(request, "payouts", format, reverse("console:payouts"))


def _own_export(request: HttpRequest, export_id: int) -> Export:
    # Someone else's export does not exist for you: its figures are theirs.
    return get_object_or_404(Export, pk=export_id, requested_by=staff_member(request))


@staff_viewer
@require_safe
def export_list(request: HttpRequest) -> HttpResponse:
    exports = list(Export.objects.filter(requested_by=staff_member(request))[:50])
    return render(request, "console/reports/exports.html", {"exports": exports})


@staff_viewer
@require_safe
def export_detail(request: HttpRequest, export_id: int) -> HttpResponse:
    export = _own_export(request, export_id)
    template = ("console/reports/_export_progress.html" if request.headers.get("HX-Request")
                else "console/reports/export.html")
    return render(request, template, {"export": export,
                                      "is_running": export.state in (ExportState.QUEUED,
                                                                     ExportState.RUNNING)})


@staff_viewer
@require_safe
def export_download(request: HttpRequest, export_id: int) -> HttpResponseBase:
    export = _own_export(request, export_id)
    stored = export.file.name  # a file field without a name holds no file
    if export.state != ExportState.DONE or not stored:
        raise Http404(_("This export has no file to download."))
    if not default_storage.exists(stored):
        raise Http404(_("This export's file is no longer kept; export the list again."))
    name = stored.rsplit("/", 1)[-1].split("-", 1)[-1]
    return FileResponse(default_storage.open(stored, "rb"), as_attachment=True,
                        filename=name, content_type=CONTENT_TYPES[export.format])


urls = [
    path("reports/", reports_page, name="reports"),
    path("reports/export/<slug:table>.<slug:format>", report_export, name="report_export"),
    path("exports/cases.<slug:format>", case_export, name="case_export"),
    path("exports/payouts.<slug:format>", payout_export, name="payout_export"),
    path("exports/", export_list, name="exports"),
    path("exports/<int:export_id>/", export_detail, name="export"),
    path("exports/<int:export_id>/download", export_download, name="export_download"),
]

