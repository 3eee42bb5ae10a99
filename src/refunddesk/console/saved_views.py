"""Queue views: the built-in ones every staff member has ("My overdue", "Appeals", …), the
ones a staff member saves and deletes for themselves, and the filters they used last.

A view is a name and the queue's filters as a query string, exactly as the filter form
writes them (`QueueFilterForm.filter_query`), so following a view's link is the same as
applying those filters by hand, and the view of the filters on screen can be marked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.states import State
from refunddesk.console import queueing
from refunddesk.console.models import LastQueueFilters, SavedQueueView

MAX_VIEWS = 30  # per staff member: links above the queue, not an archive


@dataclass(frozen=True)
class View:
    label: Any
    query: str
    pk: int | None = None  # a saved view's id; built-in views have none


def _query(**params: str | Iterable[str]) -> str:
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if isinstance(value, str):
            query[name] = value
        else:
            query.setlist(name, list(value))
    query["filtered"] = "1"
    return query.urlencode()


OPEN = tuple(queueing.OPEN_STATES)

BUILT_IN: tuple[View, ...] = (
    View(_("My overdue"), _query(state=OPEN, assignee=queueing.ME, sla=queueing.OVERDUE)),
    View(_("Unassigned"), _query(state=OPEN, assignee=queueing.UNASSIGNED)),
    View(_("Appeals"), _query(state=[State.APPEALED])),
    View(_("Waiting for the customer"), _query(state=[State.AWAITING_CUSTOMER])),
    View(_("Waiting for second approval"), _query(state=OPEN, second_approval="on")),
    View(_("Escalated"), _query(state=OPEN, escalated="on")),
)


def canonical(query: str) -> tuple[tuple[str, str], ...]:
    """A query string's parameters in one order, empty values dropped: two ways of writing
    the same filters compare equal."""
    parsed = QueryDict(query)
    return tuple(sorted((name, value) for name, values in parsed.lists()
                        for value in values if value))


def views_for(user: Any) -> tuple[list[View], list[View]]:
    """The built-in views and the user's own, by name."""
    own = [View(view.name, view.query, view.pk)
           for view in SavedQueueView.objects.filter(owner=user)]
    return list(BUILT_IN), own


class ViewNotSaved(ValueError):
    pass


def save(user: Any, name: str, query: str) -> SavedQueueView:
    """Save `query` (already checked by the filter form) under `name` for `user`."""
    name = " ".join(name.split())
    if not name:
        raise ViewNotSaved(_("Give the view a name."))
    limit = SavedQueueView._meta.get_field("name").max_length
    if limit is not None and len(name) > limit:
        raise ViewNotSaved(_("A view's name has at most 60 characters."))
    if SavedQueueView.objects.filter(owner=user).count() >= MAX_VIEWS:
        raise ViewNotSaved(_("You have 30 saved views; delete one before saving another."))
    try:
        with transaction.atomic():
            return SavedQueueView.objects.create(owner=user, name=name, query=query)
    except IntegrityError:
        raise ViewNotSaved(_("You already have a view named “%(name)s”.")
                           % {"name": name}) from None


def delete(user: Any, pk: int) -> bool:
    """Delete the user's view `pk`; False when they have no such view."""
    deleted, _by_model = SavedQueueView.objects.filter(owner=user, pk=pk).delete()
    return bool(deleted)


# -- the filters used last ----------------------------------------------------------------

def remembered(user: Any) -> str:
    """The query of the user's last queue, or "" when there is none."""
    found = LastQueueFilters.objects.filter(user=user).values_list("query", flat=True).first()
    return found or ""


def remember(user: Any, query: str) -> None:
    LastQueueFilters.objects.update_or_create(user=user, defaults={"query": query})


def forget(user: Any) -> None:
    LastQueueFilters.objects.filter(user=user).delete()
