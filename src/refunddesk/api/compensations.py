"""/api/v1/compensations: a merchant's systems start a mass compensation after an outage —
its dry run at once (`dry_run: true`, nothing stored), or the run itself, which then waits
for a second admin's approval in the console, as every run does; and follow it.

A key with the `decisions:write` scope acts as the staff member who made it (like the
decisions: api/decisions.py), who must be an admin: the run is theirs, so another admin
approves it. The API has no approval of its own — the four eyes of a run are two people,
and an integration is not a second person."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from refunddesk.api.decisions import deciding_staff
from refunddesk.api.errors import ERRORS, ApiError
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.api.schemas import Text
from refunddesk.billing.models import Product
from refunddesk.compensation import actions
from refunddesk.compensation.models import CompensationRun, Source
from refunddesk.compensation.permissions import can_compensate
from refunddesk.compensation.planning import plan
from refunddesk.compensation.presenting import as_json
from refunddesk.compensation.remedies import Remedy, RemedyError, Window, parse_percent
from refunddesk.compensation.selection import Selection
from refunddesk.policy.money import MoneyError, is_known_currency, parse_amount

router = Router(tags=["compensations"])

MAX_ENTRIES = 50


class SelectionIn(Schema):
    products: list[Text] = Field(default_factory=list, max_length=MAX_ENTRIES,
                                 description="Product codes: lines of these products.")
    skus: list[Text] = Field(default_factory=list, max_length=MAX_ENTRIES, description=(
        "SKUs: exact, or a prefix ending in `*` (`cvm.sh.*`). A region written in the SKU "
        "is selected this way."))
    flags: list[Text] = Field(default_factory=list, max_length=MAX_ENTRIES, description=(
        "Line flags the line must all carry (a region sent as a flag: "
        "`region:ap-shanghai`)."))


class OutageIn(Schema):
    start: datetime = Field(description="When the outage began (ISO 8601 with offset).")
    end: datetime = Field(description="When it ended; not in the future.")


class RemedyIn(Schema):
    kind: Literal["refund_time", "credit_percent", "credit_fixed", "extension"] = Field(
        description="refund_time: the outage's share of what each line cost, back by the way "
                    "it was paid; credit_percent / credit_fixed: a credit to the account; "
                    "extension: the service end moved later, no money.")
    percent: Text | None = Field(None, max_length=6, description=(
        "credit_percent: a decimal string, more than 0 and at most 100 (\"12.5\")."))
    fixed: dict[Text, Text] = Field(default_factory=dict, description=(
        "credit_fixed: the amount per line by currency ({\"CNY\": \"20.00\"}); lines in "
        "other currencies get nothing."))
    credit_to: Literal["balance", "gift"] = Field("balance", description=(
        "Credits: the account's spendable balance (cash) or its gift credit."))
    extension_days: int | None = Field(None, ge=1, le=3650, description=(
        "extension: days to add; leave out to extend each line by the time the outage "
        "took from it."))


class CompensationIn(Schema):
    selection: SelectionIn
    outage: OutageIn
    remedy: RemedyIn
    message_en: Text = Field("", max_length=2000, description="What customers read in "
                                                               "English.")
    message_zh: Text = Field("", max_length=2000, description="What customers read in "
                                                               "Chinese.")
    dry_run: bool = Field(False, description=(
        "true: answer the dry run and store nothing; false: create the run, whose dry run "
        "is worked out at once and which waits for a second admin's approval."))


class SampleOut(Schema):
    order: str
    line: str
    included: bool = Field(description="false: the line gets nothing; the sentences say "
                                       "why.")
    zh_hans: str = Field(description="The line's sentence in Chinese: why and how much.")
    en: str = Field(description="The same in English.")


class DryRunOut(Schema):
    customers: int
    cases: int = Field(description="One per customer and order (and refund policy).")
    lines: int = Field(description="Lines compensated.")
    totals: dict[str, str] = Field(description="Money per currency, never summed across "
                                               "currencies.")
    extended: int = Field(description="Lines whose service end moves later.")
    capped: int = Field(description="Lines cut to what their order's payments have left "
                                    "to refund.")
    excluded: dict[str, int] = Field(description="Lines the selection matched that get "
                                                 "nothing, by reason (already_compensated, "
                                                 "pay_as_you_go, …).")
    samples: list[SampleOut]
    worked_out_at: str | None = None


class ProgressOut(Schema):
    customers: int
    customers_done: int
    cases_opened: int
    percent: int
    lines_done: int
    lines_skipped: int
    totals: dict[str, str] = Field(description="Money compensated so far, per currency.")
    skipped: dict[str, int] = Field(description="Lines skipped when run, by reason.")


class RemedyOut(Schema):
    kind: str
    percent: str | None = None
    fixed: dict[str, str]
    credit_to: str | None = None
    extension_days: int | None = None


class SelectionOut(Schema):
    products: list[str]
    skus: list[str]
    flags: list[str]


class OutageOut(Schema):
    start: datetime
    end: datetime


class CompensationOut(Schema):
    id: int
    state: str = Field(description="draft | awaiting_approval | declined | approved | "
                                   "running | paused | finished | failed")
    source: str
    selection: SelectionOut
    outage: OutageOut
    remedy: RemedyOut
    created_by: str
    created_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    dry_run: DryRunOut | None = None
    progress: ProgressOut
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str
    needs_approval: bool = Field(description="true while a second admin's approval in the "
                                             "console is awaited.")


class DryRunAnswer(Schema):
    dry_run: DryRunOut


def _admin(request: HttpRequest) -> Any:
    person = deciding_staff(request)
    if not can_compensate(person):
        raise ApiError(403, "not_permitted", _("Only an admin plans, approves and steers a "
                                               "mass compensation."))
    return person


def _spec(payload: CompensationIn, now: datetime) -> actions.RunSpec:
    """The run's choices, or 422 naming the field at fault."""
    for name in ("start", "end"):
        if getattr(payload.outage, name).tzinfo is None:
            raise ApiError(422, "invalid", _("Give the outage's times with their time zone "
                                             "offset."), f"outage.{name}")
    selection = Selection(tuple(dict.fromkeys(payload.selection.products)),
                          tuple(dict.fromkeys(payload.selection.skus)),
                          tuple(dict.fromkeys(payload.selection.flags)))
    if selection.is_empty:
        raise ApiError(422, "invalid", _("Choose the affected lines: at least a product, a "
                                         "SKU or a flag."), "selection")
    known = set(Product.objects.filter(code__in=selection.products)
                .values_list("code", flat=True))
    unknown = [code for code in selection.products if code not in known]
    if unknown:
        raise ApiError(422, "invalid", _("There is no product %(codes)s.")
                       % {"codes": ", ".join(unknown)}, "selection.products")
    try:
        window = Window(payload.outage.start, payload.outage.end)
    except RemedyError as error:
        raise ApiError(422, "invalid", str(error), "outage.end") from None
    if window.end > now:
        raise ApiError(422, "invalid", _("The outage must be over: its end cannot be in the "
                                         "future."), "outage.end")
    given = payload.remedy
    try:
        percent = parse_percent(given.percent or "") if given.kind == "credit_percent" else 0
    except RemedyError as error:
        raise ApiError(422, "invalid", str(error), "remedy.percent") from None
    fixed = {}
    if given.kind == "credit_fixed":
        for currency, text in given.fixed.items():
            code = currency.upper()
            if not is_known_currency(code):
                raise ApiError(422, "invalid", _("%(currency)s is not a currency code.")
                               % {"currency": currency}, f"remedy.fixed.{currency}")
            try:
                fixed[code] = parse_amount(text, code)
            except MoneyError:
                raise ApiError(422, "invalid", _("“%(amount)s” is not an amount %(currency)s "
                                                 "can have.")
                               % {"amount": text, "currency": code},
                               f"remedy.fixed.{currency}") from None
    try:
        remedy = Remedy(given.kind, percent_hundredths=percent, fixed=fixed,
                        credit_to=given.credit_to,
                        extension_days=given.extension_days if given.kind == "extension"
                        else None)
    except RemedyError as error:
        raise ApiError(422, "invalid", str(error), "remedy") from None
    return actions.RunSpec(selection, window, remedy, payload.message_en, payload.message_zh)


@router.post("/compensations", response={200: DryRunAnswer, 201: CompensationOut, **ERRORS},
             openapi_extra=IDEMPOTENT,
             summary="Start a mass compensation after an outage, or see its dry run")
def create_compensation(request: HttpRequest, payload: CompensationIn) -> Any:
    """With `dry_run: true`, the dry run (customers, cases, lines, totals per currency, a
    sample of explanations in both languages) and nothing stored. Otherwise the run is
    created with its dry run and waits, like every run, for a second admin to approve it
    in the console; `GET /compensations/{id}` follows it from there."""
    person = _admin(request)
    now = timezone.now()
    spec = _spec(payload, now)
    if payload.dry_run:
        worked_out = plan(spec.selection, spec.window, spec.remedy, now=now)
        return Status(200, {"dry_run": {**worked_out.figures(),
                                        "samples": worked_out.samples()}})
    run = actions.create_run(spec, actor=person, source=Source.API, now=now)
    run = actions.dry_run(run, actor=person, now=now)
    return Status(201, as_json(_run(run.pk)))


def _run(run_id: int) -> CompensationRun:
    run = (CompensationRun.objects.select_related("created_by", "approved_by")
           .filter(pk=run_id).first())
    if run is None:
        raise Http404(_("There is no compensation run %(id)s.") % {"id": run_id})
    return run


@router.get("/compensations/{run_id}", response={200: CompensationOut, **ERRORS},
            summary="A mass compensation: its state, dry run and progress")
def read_compensation(request: HttpRequest, run_id: int) -> Any:
    _admin(request)
    return as_json(_run(run_id))
