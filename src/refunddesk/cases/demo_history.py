"""Two months of the desk's past for the demo, so that its reports have something to show.

Over the sixty days before the demo's queue (cases/demo.py opens that one, over the last
four days) demo customers apply a few times a day, more on working days, by every channel:
the portal, an agent on the phone, e-mail and the API. The demo staff then work each request
at later moments of that past, through the same actions as the console, each given its
`now`: a first answer within hours of the desk's working day, a decision within one to three
business days (a few late, escalated by the deadline), approvals in full, in part and above
the assessment, four-eyes confirmations (under a version of the certificates' policy with a
threshold, which the history publishes first), rejections with their reasons, questions answered
and never answered, withdrawals, appeals heard by a reviewer who did not decide, and the
money paid back by the payout runner just after each approval (refunds to the cards the demo
data marks as expired fail; finance redirects most of them to the balance). What would fall
after `now` is left undone: those cases are still open.

Deterministic for a seed and a `now`. Written once, on the demo's first start, before the
queue: the command decides when (core/management/commands/demo.py).
"""

from __future__ import annotations

import random
import re
from contextlib import suppress
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Exists, OuterRef

from refunddesk.billing.demo.payments import EXPIRED_CARD
from refunddesk.billing.models import Order, OrderLine, SalesChannel
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.demo_stories import live, pick_story
from refunddesk.cases.demo_work import DESK_ZONE, Desk, NotYet, Work
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase
from refunddesk.core.demo_staff import demo_customer_examples
from refunddesk.inbox.reading import mark_all_read

# The history's days, counted back from `now`: it ends where the demo's queue begins.
FIRST_DAY, LAST_DAY = 62, 5
CHANNELS = (("portal", 55), ("agent", 15), ("email", 12), ("api", 18))
STORE_CHANNELS = (SalesChannel.APP_STORE, SalesChannel.GOOGLE_PLAY)
# What customers ask refunds for (domains are never refunded: nothing to show).
PRODUCTS = ("cvm", "vpn", "backup", "ssl")

# The demo policies that send cash back the way it came (the others: to the balance).
ORIGINAL_ROUTE = ("alibaba-cloud", "vpn-30-day")

# Four eyes: the policy owner has a second person confirm refunds of costly certificates.
# No preset sets a threshold the demo orders reach, so the history publishes one, as an
# admin would in the console, before its first request.
FOUR_EYES_POLICY = "alibaba-cloud"
FOUR_EYES_ABOVE = 'four_eyes_above = { CNY = "1000.00", USD = "150.00" }'


def open_demo_history(now: datetime, *, seed: int = 2026) -> int:
    """Write the history; returns how many cases it opened. Needs the demo data, its
    customers' logins and the demo staff (core/demo_staff.py); opens nothing without them."""
    users = {user.username: user for user in get_user_model().objects.filter(
        username__in=["demo-agent", "demo-reviewer", "demo-reviewer2", "demo-finance",
                      "demo-admin", "demo-admin2"])}
    agent, reviewer = users.get("demo-agent"), users.get("demo-reviewer")
    if agent is None or reviewer is None:
        return 0
    reviewers = [user for user in (reviewer, users.get("demo-reviewer2")) if user is not None]
    rng = random.Random(seed)
    start = now - timedelta(days=FIRST_DAY)
    if "demo-admin" in users and "demo-admin2" in users:
        _publish_four_eyes(users["demo-admin"], users["demo-admin2"],
                           at=start - timedelta(days=3))
    desk = Desk(rng, now - timedelta(minutes=30), agent, reviewers, users.get("demo-finance"))
    pool = Pool(now, rng)
    opened = 0
    for submitted in _submission_times(now, rng, desk):
        channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        if channel == "agent":  # a phone call: while the desk is open
            submitted = desk.at_desk(submitted)
        found = pool.take(submitted) if submitted < desk.until else None
        if found is None:
            continue
        order, special = found
        try:
            cases = _apply(order, pool.lines(order, submitted), channel, submitted, desk)
        except CaseError:
            continue
        opened += len(cases)
        for case in cases:
            story = pick_story(rng, case, special)
            # Left where it is when a step would come after `now` (still open) or is refused.
            with suppress(NotYet, CaseError):
                live(Work(desk, case, story, submitted))
    for user in users.values():
        # Staff read their notices of those days long ago.
        mark_all_read(user, now=desk.until)
    return opened


def _submission_times(now: datetime, rng: random.Random, desk: Desk) -> list[datetime]:
    times = []
    for back in range(FIRST_DAY, LAST_DAY - 1, -1):
        day = (now - timedelta(days=back)).astimezone(DESK_ZONE).date()
        working = desk.calendar.is_business_day(day)
        for _ in range(rng.choice((2, 3, 3, 4) if working else (0, 1, 1, 2))):
            hour = rng.uniform(8, 23.5)
            times.append(datetime.combine(day, time(0), DESK_ZONE) + timedelta(hours=hour))
    return sorted(moment for moment in times if moment < now - timedelta(days=LAST_DAY - 1))


# -- which orders ---------------------------------------------------------------------------

class Pool:
    """The demo customers' orders the history applies for, each at most once. Customers the
    demo offers to try a refund with (demo_customer_examples) are left alone: a refund in
    their past would change what their example order is worth."""

    def __init__(self, now: datetime, rng: random.Random):
        self.rng = rng
        examples = {example.email for example in demo_customer_examples(now)}
        prepaid = OrderLine.objects.filter(order=OuterRef("pk"), billing="prepaid",
                                           service_end__gt=now - timedelta(days=FIRST_DAY),
                                           product__code__in=PRODUCTS)
        self.orders = list(
            Order.objects.filter(account__user__isnull=False,
                                 placed_at__gt=now - timedelta(days=FIRST_DAY + 300),
                                 placed_at__lt=now - timedelta(days=LAST_DAY))
            .exclude(channel__in=STORE_CHANNELS).exclude(account__email__in=examples)
            .filter(Exists(prepaid)).select_related("account")
            .prefetch_related("lines__product", "payments").order_by("placed_at", "pk"))
        # Each order's lines a refund can be asked for: (start, end, policy, line id). Read
        # once: the pool is asked for every request of the history.
        self.periods = {order.pk: [
            (line.service_start, line.service_end, line.product.policy_id, line.line_id)
            for line in order.lines.all() if line.billing == "prepaid"
            and line.service_start is not None and line.service_end is not None
            and line.product.code in PRODUCTS and line.product.policy_id]
            for order in self.orders}
        self.used: set[int] = set()

    def lines(self, order: Order, at: datetime) -> list[str]:
        """The order's lines still running at `at`, under the first one's policy."""
        running = [(policy, line_id) for start, end, policy, line_id in self.periods[order.pk]
                   if start < at < end]
        return [line_id for policy, line_id in running if policy == running[0][0]]

    def take(self, at: datetime) -> tuple[Order, str] | None:
        """An order to apply for at `at`, and what is special about it: "fresh" (bought in
        the last days: a money-back window), "expired_card", "four_eyes" (costly, under the
        four-eyes policy) or ""."""
        running = [order for order in self.orders if order.pk not in self.used
                   and order.placed_at < at - timedelta(hours=2) and self.lines(order, at)]
        if not running:
            return None
        draw = self.rng.random()
        kinds = (("fresh", 0.2, lambda o: o.placed_at > at - timedelta(days=5)),
                 ("expired_card", 0.06, _pays_by_expired_card),
                 ("four_eyes", 0.06, _is_costly_certificate))
        special, chosen = "", running
        for kind, share, fits in kinds:
            if draw < share:
                fitting = [order for order in running if fits(order)]
                if fitting:
                    special, chosen = kind, fitting
                break
            draw -= share
        order = self.rng.choice(chosen)
        self.used.add(order.pk)
        return order, special


def _pays_by_expired_card(order: Order) -> bool:
    """Paid by an expired card, refunded to it (the policy sends cash back the way it came);
    a first purchase, since renewals of VPN plans are never refunded."""
    return (order.kind == "new" and not order.is_invoiced
            and any(EXPIRED_CARD in payment.reference for payment in order.payments.all())
            and any(line.product.policy_id in ORIGINAL_ROUTE for line in order.lines.all()))


def _is_costly_certificate(order: Order) -> bool:
    return any(line.product.policy_id == FOUR_EYES_POLICY and line.amount_paid_minor > 150000
               for line in order.lines.all())


# -- applying -------------------------------------------------------------------------------

REASON_TEXTS = {
    "zh-hans": ("服务器性能不满足需求", "业务调整，不再需要", "迁移到其他平台", "买错了配置",
                "项目取消了", ""),
    "en": ("The VPN was too slow in my city.", "Bought the wrong plan.",
           "We moved to another provider.", "Our project was cancelled.", ""),
}
MAIL_TEXT = {"zh-hans": "您好，订单 {order} 申请退款。{reason}",
             "en": "Hello, I would like a refund for order {order}. {reason}"}


def _apply(order: Order, line_ids: list[str], channel: str, at: datetime, desk: Desk
           ) -> list[RefundCase]:
    account, rng = order.account, desk.rng
    language = "zh-hans" if order.currency == "CNY" or rng.random() < 0.1 else "en"
    reason = rng.choice(REASON_TEXTS[language])
    common: dict[str, Any] = dict(account=account, order=order, line_ids=line_ids,
                                  language=language, now=at)
    if channel == "agent":
        references = [payment.reference for payment in order.payments.all()
                      if payment.reference]
        identity = actions.IdentityCheck(
            contact=account.email, order_number=order.external_id,
            payment_reference=references[0][-6:] if references else "",
            has_payment_receipt=not references)
        return actions.open_for_customer(
            actor=desk.agent, identity=identity, reason_category=_category(desk),
            reason_text=reason, uploads=[] if references else [_receipt(order)], **common)
    if channel == "email":
        reason = MAIL_TEXT[language].format(order=order.external_id, reason=reason)
    return actions.open_cases(
        actor=customer_of(account), channel=channel,
        reason_category=_category(desk) if channel == "portal" else None,
        reason_text=reason, **common)


def _category(desk: Desk) -> Any:
    return desk.rng.choice(desk.reasons) if desk.reasons else None


def _receipt(order: Order) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"receipt-{order.external_id}.txt",
                              f"Payment receipt for order {order.external_id}\n".encode(),
                              content_type="text/plain")


def _publish_four_eyes(admin: Any, second_admin: Any, *, at: datetime) -> None:
    """Version 2 of FOUR_EYES_POLICY: the preset with a four-eyes threshold, written and
    proposed by `admin` and approved by `second_admin` (publishing takes two). Only over the
    preset itself: an installation whose admins wrote versions of their own keeps them."""
    from refunddesk.policies.actions import PolicyStoreError, save_draft
    from refunddesk.policies.publishing import propose_and_approve
    from refunddesk.policies.store import next_version
    from refunddesk.policy.presets import PRESETS_DIR

    if next_version(FOUR_EYES_POLICY) != 2:
        return
    source = (PRESETS_DIR / f"{FOUR_EYES_POLICY}.toml").read_text(encoding="utf-8")
    text, versions = re.subn(r"(?m)^version = 1$", "version = 2", source, count=1)
    text, thresholds = re.subn(r"(?m)^(appeal_window = .*)$", rf"\1\n{FOUR_EYES_ABOVE}",
                               text, count=1)
    if versions != 1 or thresholds != 1 or "four_eyes_above" in source:
        return
    try:
        draft = save_draft(FOUR_EYES_POLICY, text, actor=admin, now=at,
                           note="Four eyes above 1,000.00 CNY / 150.00 USD: certificates are "
                                "costly, a second reviewer confirms their refunds.")
        propose_and_approve(draft, proposed_by=admin, approved_by=second_admin,
                            now=at + timedelta(minutes=20))
    except (PolicyStoreError, CaseError):
        return
