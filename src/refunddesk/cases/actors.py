"""Who makes a change: always a value, never an absence.

- a person: a staff member or a customer, as a Django user;
- `AccountHolder`: the customer of a billing account who has no portal login, acting
  through an integration (the API) — the change is theirs, but no user row stands for them;
- `SystemActor`: the desk itself (deadlines, automatic decisions, the payout runner, the
  command line). Each has a name for the audit trail and an explicit list of what it may
  do; it holds no staff role, so the staff checks refuse it everywhere else.

An action given `None` refuses to run: "nobody" must never mean "anything goes".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.events import CaseEventType as E


class NotAPerson:
    """Read like a user by code that asks any actor (permissions, templates): no login,
    never staff, no row in the user table."""

    is_staff = False
    is_authenticated = False
    is_active = False
    pk = None


@dataclass(frozen=True)
class SystemActor(NotAPerson):
    name: str
    # The audit event types (cases) and named powers (elsewhere: "api_key.create") this
    # actor may perform; nothing else.
    may: frozenset[str]
    label: Any = ""  # how the audit trail names it to staff

    def __str__(self) -> str:
        return f"system:{self.name}"


@dataclass(frozen=True)
class AccountHolder(NotAPerson):
    """The customer of account `account_id`, without a portal login."""
    account_id: int

    def __str__(self) -> str:
        return f"customer of account {self.account_id}"


# A person is a row of Django's own user model, which the desk keeps (AUTH_USER_MODEL is
# not swapped): the type the "who" columns hold and `request.user` is once logged in.
Actor = User | SystemActor | AccountHolder

# What the desk does by itself, each with the narrow list of what it may do.
AUTO_DECISION = SystemActor("auto_decision", frozenset({E.APPROVED, E.ROUTED_TO_REVIEW}),
                            _("RefundDesk (automatic decision)"))
DEADLINES = SystemActor("deadlines", frozenset({
    E.CLOSED_INFO_DEADLINE, E.CLOSED_APPEAL_WINDOW, E.ESCALATED}),
    _("RefundDesk (deadline)"))
PAYOUT_RUNNER = SystemActor("payout_runner", frozenset({
    E.PAYOUTS_SUBMITTED, E.PAYOUT_FAILED, E.ALL_SETTLED, E.PAYOUT_FELL_BACK}),
    _("RefundDesk (payouts)"))
# A mass compensation run (compensation/running.py) opening the cases a second admin
# approved: it opens and approves them, and records that the run finished or failed.
COMPENSATION = SystemActor("compensation", frozenset({
    E.COMPENSATION_OPENED, E.APPROVED, "compensation.finish", "compensation.fail"}),
    _("RefundDesk (mass compensation)"))
# Whoever runs `refunddesk …` on the server already holds it; still only these powers.
COMMAND_LINE = SystemActor("command_line", frozenset({
    "api_key.create", "api_key.revoke", "staff.change_roles"}), _("command line"))

# The worker's pass that records scheduled policy versions taking effect (they take effect
# by their time alone; this only writes the audit row).
POLICY_SCHEDULE = SystemActor("policy_schedule", frozenset({"policy.took_effect"}),
                              _("RefundDesk (policy schedule)"))

SYSTEM_ACTORS = (AUTO_DECISION, DEADLINES, PAYOUT_RUNNER, COMPENSATION, COMMAND_LINE,
                 POLICY_SCHEDULE)


def system_label(name: str) -> Any:
    """How the audit trail names the system actor called `name`."""
    return next((actor.label for actor in SYSTEM_ACTORS if actor.name == name),
                _("RefundDesk (automatic)"))


def require_actor(actor: Any) -> Actor:
    """`actor` itself, or NotPermitted when there is none (or it is not an actor)."""
    if isinstance(actor, (User, SystemActor, AccountHolder)):
        return actor
    raise NotPermitted(_("This change needs someone (or a named part of the system) to make "
                         "it; it was refused."))


def require_system_may(actor: SystemActor, power: str) -> None:
    if power not in actor.may:
        raise NotPermitted(_("The system (%(name)s) may not do this: %(power)s.")
                           % {"name": actor.name, "power": power})


def person(actor: Actor) -> User | None:
    """The user to keep in "who" columns: the person, or None for the system and for a
    customer without a login (the event's kind and data say who it was)."""
    return actor if isinstance(actor, User) else None


def kind_of(actor: Actor) -> str:
    """customer, staff or system."""
    if isinstance(actor, SystemActor):
        return "system"
    if isinstance(actor, AccountHolder):
        return "customer"
    return "staff" if actor.is_staff else "customer"


def customer_of(account: Any) -> Actor:
    """The customer of a billing account as an actor: their portal login when they have
    one, else the account holder by account."""
    return account.user if account.user_id is not None else AccountHolder(account.pk)
