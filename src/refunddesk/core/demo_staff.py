"""The demo's people: one staff user per role (with a second factor, since the console
requires one) and a portal login for each demo customer, with the reference data they need
(approval limits, rejection reasons, refund reasons). Only the `demo` command and the tests
make them; the roles themselves are staff.py's."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction

from refunddesk.core.staff import ensure_role_groups

# Demo approval limits of agents; reviewers approve any amount.
DEMO_AGENT_LIMITS = {"CNY": 200000, "USD": 30000, "EUR": 30000}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    is_new: bool
    # The secret of the user's authenticator (TOTP), to add to an authenticator app;
    # None when the user has none (turned off in the console).
    totp_secret: str | None = None


def ensure_demo_limits(groups: dict[str, Group]) -> None:
    from refunddesk.cases.models import ApprovalLimit

    for currency, limit in DEMO_AGENT_LIMITS.items():
        ApprovalLimit.objects.get_or_create(group=groups["agent"], currency=currency,
                                            defaults={"limit_minor": limit})


DEMO_REJECTION_REASONS = (
    ("outside_window", "超出退款期限", "Outside the refund window"),
    ("not_eligible", "不符合退款条件", "Not eligible under the refund policy"),
    ("service_consumed", "服务已使用", "The service has been used"),
    ("promotion_non_refundable", "促销商品不可退", "Promotional purchase, not refundable"),
    ("duplicate_request", "重复申请", "Duplicate request"),
    ("insufficient_evidence", "材料不足", "Not enough evidence"),
    ("abuse", "滥用退款", "Abuse of the refund policy"),
    ("other", "其他", "Other"),
)


def ensure_demo_rejection_reasons() -> None:
    from refunddesk.cases.models import RejectionReason

    if not RejectionReason.objects.exists():
        RejectionReason.objects.bulk_create(
            RejectionReason(code=code, name_zh=zh, name_en=en, position=position)
            for position, (code, zh, en) in enumerate(DEMO_REJECTION_REASONS))


DEMO_STAFF_PREFIX = "demo-"
# (role, user name): one user per role, a second reviewer, since approvals above a policy's
# four-eyes threshold and appeals against a reviewer's own decision need a colleague who
# holds the same powers, and a second admin, who approves the policy versions demo-admin
# proposes (publishing takes two admins).
DEMO_STAFF = (
    ("agent", "demo-agent"), ("reviewer", "demo-reviewer"), ("reviewer", "demo-reviewer2"),
    ("finance", "demo-finance"), ("admin", "demo-admin"), ("admin", "demo-admin2"),
)


@transaction.atomic
def ensure_demo_staff() -> list[DemoLogin]:
    """The users of DEMO_STAFF, each with a second factor (TOTP) since the console requires one.
    Password and TOTP secret are set only when the user is created, so a password changed
    after the first start stays changed; the secret is random, different on every
    installation, and stays the same from one start to the next."""
    from refunddesk.core import totp

    groups = ensure_role_groups()
    ensure_demo_limits(groups)
    ensure_demo_rejection_reasons()
    user_model = get_user_model()
    logins = []
    for role, username in DEMO_STAFF:
        name = username.removeprefix(DEMO_STAFF_PREFIX)
        password = f"{name}-demo-2026"
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"email": f"{name}@demo.refunddesk.example", "is_staff": True},
        )
        if user.is_superuser:
            # Earlier demos made demo-admin a superuser, which let it decide cases; the
            # admin role keeps the desk running and decides nothing.
            user.is_superuser = False
            user.save(update_fields=["is_superuser"])
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            totp.activate(user, totp.new_secret())
        user.groups.add(groups[role])
        logins.append(DemoLogin(role, username, password, created, totp_secret(user)))
    return logins


def totp_secret(user: User) -> str | None:
    """The secret of `user`'s authenticator app, or None when TOTP is not set up."""
    from refunddesk.core import totp

    return totp.secret_of(user)


class NoDemoCode(Exception):
    """Why there is no code to show for this user (the message says it to a person)."""


def demo_totp_code(username: str, *, at: float | None = None) -> str:
    """The code a demo staff member's authenticator app shows at `at` (seconds since the
    epoch; now by default), so the demo can be tried without a phone. Only for the demo
    users: anyone else's code stays in their own app."""
    from refunddesk.core import totp

    if not username.startswith(DEMO_STAFF_PREFIX):
        raise NoDemoCode(f"{username}: codes are shown only for the demo staff users "
                         f"({', '.join(name for _role, name in DEMO_STAFF)}).")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NoDemoCode(f"{username}: no such user. `refunddesk demo` creates the demo "
                         "staff users.")
    secret = totp_secret(user)
    if secret is None:
        raise NoDemoCode(f"{username} has no authenticator (TOTP) set up; log in and set "
                         "one up in the console.")
    return totp.code_at(secret, time.time() if at is None else at)


# -- demo customers ---------------------------------------------------------------------------

CUSTOMER_PASSWORD = "customer-demo-2026"

# Why customers ask for refunds; staff edit the list in the administration.
DEMO_REASONS = (
    ("changed_mind", "不想要了", "Changed my mind"),
    ("not_as_described", "与描述不符", "Not as described"),
    ("service_problem", "服务故障", "The service did not work"),
    ("bought_by_mistake", "误购", "Bought by mistake"),
    ("other", "其他", "Other"),
)


@dataclass(frozen=True)
class CustomerExample:
    email: str
    order_id: str
    window: str  # "five_day" | "money_back" | "two_policies"


@transaction.atomic
def ensure_demo_customers() -> int:
    """A portal login for every billing account that has none: user name and e-mail are the
    account's e-mail, the password is CUSTOMER_PASSWORD, the address counts as verified
    (the billing system vouches for it). Also the refund reasons, when there are none.
    Returns how many logins were created."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password

    from refunddesk.billing.models import Account
    from refunddesk.cases.models import ReasonCategory

    if not ReasonCategory.objects.exists():
        ReasonCategory.objects.bulk_create(
            ReasonCategory(code=code, name_zh=zh, name_en=en, position=position)
            for position, (code, zh, en) in enumerate(DEMO_REASONS))

    accounts = list(Account.objects.filter(user__isnull=True).order_by("pk"))
    if not accounts:
        return 0
    user_model = get_user_model()
    # One hash for all: hashing is deliberately slow, and hundreds of them take minutes.
    password = make_password(CUSTOMER_PASSWORD)
    emails = {account.email.lower() for account in accounts}
    existing = {user.username: user for user in
                user_model.objects.filter(username__in=emails)}
    taken = set(Account.objects.filter(user__isnull=False).values_list("user_id", flat=True))
    user_model.objects.bulk_create(
        [user_model(username=email, email=email, password=password)
         for email in sorted(emails - existing.keys())], batch_size=500)
    users = {user.username: user for user in user_model.objects.filter(username__in=emails)}
    linked = []
    for account in accounts:
        user = users[account.email.lower()]
        if user.pk in taken:  # two accounts with one address: the first keeps the login
            continue
        account.user = user
        taken.add(user.pk)
        linked.append((account, user))
    Account.objects.bulk_update([account for account, _user in linked], ["user"],
                                batch_size=500)
    have_address = set(EmailAddress.objects.filter(user__in=[user for _account, user in linked])
                       .values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=account.email.lower(), verified=True, primary=True)
         for account, user in linked if user.pk not in have_address], batch_size=500)
    return len(users.keys() - existing.keys())


def demo_customer_examples(now: datetime, *, per_window: int = 2) -> list[CustomerExample]:
    """Customers with an order inside a money-back window at `now`, newest first: new
    server orders whose service started within five days (Tencent Cloud's five-day no-reason
    refund) and first VPN orders bought directly within 30 days (the VPN guarantee); and
    orders of the last five days whose lines fall under two refund policies."""
    from django.db.models import Count, Exists, OuterRef, Q

    from refunddesk.billing.demo.payments import EXPIRED_CARD
    from refunddesk.billing.models import Order, Payment
    from refunddesk.cases.models import CaseLine

    open_case = CaseLine.objects.filter(order_line__order=OuterRef("pk"), holds_line=True)
    # Not one paid by a card the demo data marks as expired: its refund would fail.
    expired_card = Payment.objects.filter(order=OuterRef("pk"),
                                          reference__contains=EXPIRED_CARD)
    linked = (Order.objects.filter(account__user__isnull=False).exclude(Exists(open_case))
              .exclude(Exists(expired_card)))
    five_day = (linked.filter(kind="new", lines__product__code="cvm",
                              lines__service_start__gt=now - timedelta(days=5),
                              lines__service_start__lte=now)
                .order_by("-placed_at"))
    earlier_vpn = Order.objects.filter(account=OuterRef("account"), lines__product__code="vpn",
                                       placed_at__lt=OuterRef("placed_at"))
    money_back = (linked.filter(kind="new", channel="direct", lines__product__code="vpn",
                                placed_at__gt=now - timedelta(days=30), placed_at__lte=now)
                  .exclude(Exists(earlier_vpn)).order_by("-placed_at"))
    # Lines under two refund policies in one order: the quote groups them, one case each.
    policies = Count("lines__product__policy_id", distinct=True,
                     filter=~Q(lines__product__policy_id=""))
    two_policies = (linked.filter(placed_at__gt=now - timedelta(days=5), placed_at__lte=now)
                    .annotate(policies=policies).filter(policies__gt=1).order_by("-placed_at"))
    examples: list[CustomerExample] = []
    seen: set[str] = set()
    for window, orders in (("five_day", five_day), ("money_back", money_back),
                           ("two_policies", two_policies)):
        found = 0
        for order_id, email in orders.values_list("external_id", "account__email")[:50]:
            if found == per_window:
                break
            if email in seen:
                continue
            seen.add(email)
            examples.append(CustomerExample(email, order_id, window))
            found += 1
    return examples
