"""Taking figures out of the desk, always on the record.

`export_now` writes a small export straight into the response and records it; a large one
(more than INLINE_ROWS rows) is `request_export`ed: recorded as queued and its task
enqueued in the same transaction, then built by the worker (`build_export`), which counts
its progress on the row and keeps the file for its requester to download. The task is
idempotent: a finished export is not built again, and one whose worker died is built again
from the start (the file is written whole or not at all).
"""

from __future__ import annotations

import io
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override
from django_tasks import task

from refunddesk.cases.errors import NotPermitted
from refunddesk.reports.exporting import write
from refunddesk.reports.models import Export, ExportSource, ExportState
from refunddesk.reports.subjects import SUBJECTS, BadParameters, Listing, Subject

log = logging.getLogger(__name__)

# Above this many rows an export is built in the background, with a progress bar.
INLINE_ROWS = 10_000


@dataclass
class Written:
    export: Export
    content: bytes
    file_name: str


def subject_for(name: str, user: Any) -> Subject:
    subject = SUBJECTS.get(name)
    if subject is None:
        raise BadParameters(_("There is no export called %(name)s.") % {"name": name})
    if not subject.may_export(user):
        raise NotPermitted(_("Your role does not export these figures."))
    return subject


def file_name(subject: str, format: str, now: datetime) -> str:
    return f"refunddesk-{subject.replace(':', '-')}-{now:%Y%m%d-%H%M}.{format}"


def prepare(name: str, params: dict[str, Any], *, actor: Any, now: datetime,
            language: str) -> Listing:
    """The rows an export would have, permission checked (raises NotPermitted,
    BadParameters)."""
    return subject_for(name, actor).listing(params, actor, now, language)


def export_now(name: str, params: dict[str, Any], format: str, *, actor: Any,
               language: str, now: datetime | None = None,
               source: str = ExportSource.CONSOLE, listing: Listing | None = None) -> Written:
    """Write the export at once and record who took it."""
    now = now or timezone.now()
    listing = listing or prepare(name, params, actor=actor, now=now, language=language)
    stream = io.BytesIO()
    with override(language):
        count = write(format, listing.columns, listing.rows, stream, title=listing.title)
    export = Export.objects.create(
        subject=name, params={**params, "language": language}, format=format,
        requested_by=_person(actor), source=source, state=ExportState.DONE, rows_total=count,
        rows_done=count, requested_at=now, finished_at=timezone.now())
    return Written(export, stream.getvalue(), file_name(name, format, now))


def request_export(name: str, params: dict[str, Any], format: str, *, actor: Any,
                   language: str, now: datetime | None = None) -> Export:
    """Record a large export and leave it to the worker."""
    now = now or timezone.now()
    subject_for(name, actor)
    with transaction.atomic():
        export = Export.objects.create(
            subject=name, params={**params, "language": language}, format=format,
            requested_by=_person(actor), state=ExportState.QUEUED, requested_at=now)
        build_export.enqueue(export.pk)
    return export


def _person(actor: object) -> User | None:
    return actor if isinstance(actor, User) and actor.pk is not None else None


@task()
def build_export(export_id: int) -> str:
    claimed = (Export.objects.filter(pk=export_id,
                                     state__in=[ExportState.QUEUED, ExportState.RUNNING])
               .update(state=ExportState.RUNNING, rows_done=0))
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    if not claimed:
        return export.state
    language = export.params.get("language", "en")
    try:
        listing = prepare(export.subject, export.params, actor=export.requested_by,
                          now=export.requested_at, language=language)
        Export.objects.filter(pk=export_id).update(rows_total=listing.count)

        def progress(done: int) -> None:
            Export.objects.filter(pk=export_id).update(rows_done=done)

        with tempfile.TemporaryFile() as scratch, override(language):
            count = write(export.format, listing.columns, listing.rows, scratch, progress,
                          title=listing.title)
            scratch.seek(0)
            name = file_name(export.subject, export.format, export.requested_at)
            stored = default_storage.save(f"exports/{export.pk}-{name}", File(scratch))
    except (NotPermitted, BadParameters) as error:
        _fail(export_id, str(error))
        return ExportState.FAILED
    except Exception as error:
        log.exception("export %s could not be built", export_id)
        _fail(export_id, f"{type(error).__name__}: {error}"[:2000])
        return ExportState.FAILED
    Export.objects.filter(pk=export_id).update(
        state=ExportState.DONE, file=stored, rows_total=count, rows_done=count,
        finished_at=timezone.now())
    return ExportState.DONE


def _fail(export_id: int, message: str) -> None:
    Export.objects.filter(pk=export_id).update(state=ExportState.FAILED, error=message,
                                               finished_at=timezone.now())
