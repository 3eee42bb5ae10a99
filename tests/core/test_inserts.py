"""`insert` (core/statements.py) writes new rows as `bulk_create` writes them: every value
read back equal on SQLite and PostgreSQL, the keys set in order, foreign keys taken from
related instances, an unsaved related instance refused."""

from __future__ import annotations

import copy

import pytest
from django.db import models

from refunddesk.cases.models import CaseEvent, CaseLine, RefundCase
from refunddesk.core.statements import insert
from refunddesk.notifications.models import EmailDelivery
from refunddesk.payouts.models import Payout
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db


def values(instance: models.Model, *, leaving_out: set[str]) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname)
            for field in type(instance)._meta.concrete_fields
            if field.attname not in leaving_out and not getattr(field, "auto_now", False)}


def copy_of(instance, **changes):
    """A new, unsaved instance with the same values (but its key and `changes`)."""
    new = copy.copy(instance)
    new.pk = None
    new._state = type(instance._state)()
    for name, value in changes.items():
        setattr(new, name, value)
    return new


def test_a_case_with_its_lines_events_mails_and_payouts_reads_back_as_the_orm_wrote_it():
    # given an approved case the ORM wrote: its JSON, times, booleans, keys and amounts
    case = approved_case()
    old_lines, old_events = list(case.lines.all()), list(case.events.all())
    old_mails, old_payouts = list(case.email_deliveries.all()), list(case.payouts.all())
    assert old_lines and old_events and old_mails and old_payouts

    # when a copy of each row is written by `insert` (another tracking number; the lines
    # release their order lines, which one open case holds)
    new_case = copy_of(case, tracking_number="TESTINSERT01")
    insert([new_case])
    lines = insert([copy_of(line, case=new_case, holds_line=False) for line in old_lines])
    events = insert([copy_of(event, case=new_case) for event in old_events])
    mails = insert([copy_of(mail, case=new_case) for mail in old_mails])
    payouts = insert([copy_of(payout, case=new_case) for payout in old_payouts])

    # then each row reads back with the values of the row it copies
    assert values(RefundCase.objects.get(pk=new_case.pk),
                  leaving_out={"id", "tracking_number"}) == values(
        case, leaving_out={"id", "tracking_number"})
    for written, model, old, different in (
            (lines, CaseLine, old_lines, {"id", "case_id", "holds_line"}),
            (events, CaseEvent, old_events, {"id", "case_id"}),
            (mails, EmailDelivery, old_mails, {"id", "case_id"}),
            (payouts, Payout, old_payouts, {"id", "case_id"})):
        read = list(model.objects.filter(pk__in=[row.pk for row in written]).order_by("pk"))
        assert [row.pk for row in read] == [row.pk for row in written]
        assert [values(row, leaving_out=different) for row in read] == [
            values(row, leaving_out=different) for row in old]
        assert {row.case_id for row in read} == {new_case.pk}


def test_the_keys_are_set_in_the_order_of_the_instances_and_they_count_as_saved():
    case = approved_case()
    [event] = case.events.all()[:1]

    events = insert([copy_of(event, action="note", data={"n": n}) for n in range(3)])

    assert [CaseEvent.objects.get(pk=e.pk).data for e in events] == [{"n": 0}, {"n": 1},
                                                                     {"n": 2}]
    assert [e._state.adding for e in events] == [False] * 3

    # and a written instance is updated by save(), not written again
    [new_case] = insert([copy_of(case, tracking_number="TESTINSERT03")])
    new_case.reason_text = "changed"
    new_case.save()
    assert list(RefundCase.objects.filter(tracking_number="TESTINSERT03")
                .values_list("pk", "reason_text")) == [(new_case.pk, "changed")]


def test_a_related_instance_not_yet_written_is_refused_and_nothing_is_written():
    case = approved_case()
    unsaved = copy_of(case, tracking_number="TESTINSERT02")
    [event] = case.events.all()[:1]
    before = CaseEvent.objects.count()

    with pytest.raises(ValueError, match="the related RefundCase is not saved yet"):
        insert([copy_of(event, case=unsaved)])

    assert CaseEvent.objects.count() == before


def test_nothing_to_write_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert([]) == []


def test_an_expression_for_a_value_is_refused():
    from django.db.models.functions import Now

    [event] = approved_case().events.all()[:1]

    with pytest.raises(TypeError, match=r"CaseEvent\.at: insert writes values only"):
        insert([copy_of(event, at=Now())])


def test_more_rows_than_a_statement_takes_are_written_in_batches_keys_in_order(
        django_assert_num_queries):
    from refunddesk.core.statements import INSERT_BATCH

    [event] = approved_case().events.all()[:1]
    many = [copy_of(event, data={"n": n}) for n in range(INSERT_BATCH + 1)]

    with django_assert_num_queries(2):
        insert(many)

    assert [CaseEvent.objects.get(pk=e.pk).data["n"] for e in many] == list(
        range(INSERT_BATCH + 1))
