"""The reports with a million cases on PostgreSQL: how long each report takes to build, and
a large Excel export.

Seeds bench_queue.py's desk (REPORTS_BENCH_CASES cases, default 1,000,000, two years of
them, the newest 8% still open) and adds, in bulk SQL, what the reports read and the queue
does not. The queue keeps its newest 58 days open to page through; a month of reports needs
that month decided and paid, so the open cases of those days older than OPEN_DAYS are
finished in bench_queue's mix of endings (the old open cases it scatters stay open). Then
each case's story as the desk would have written it (decision time and who made
it, approved amounts (a rejection records zero), partial approvals and a few above the
assessment, rejection reasons, appeals, the customer's reason, the assessment's outcome,
first responses and SLA due times), its events (the submission from '' to submitted, every
state change, assignments and messages, four-eyes approvals naming who proposed them), the
payouts of approved cases (paid, sent or failed with an error code, over the original
payment route per gateway, the balance, vouchers and gift credit) and each case's service
times (reports.CaseTiming); then the worker's daily counts of state changes
(reports.DailyMoves, `reports_rollup_seconds`). Then it times, median of several runs, in ms:

  report_<name>_ms       each report of reports/catalogue.py built as the console builds
                         it, for the last 30 days up to now in the desk's time zone ("this
                         month" as a desk uses it), every filter empty (the whole desk)
  report_<name>_year_ms  the same for the last 365 days

and, in seconds:

  export_100k_rows_s     the queue's case list exported to Excel (subject "cases", the
                         refunded USD cases, about 107,000 at a million) the way a reviewer's
                         large export runs: recorded and enqueued (exports.request_export),
                         then built by the task (exports.build_export: the queue's query,
                         xlsxwriter, progress on the Export row, the file stored); per
                         100,000 rows of it

PostgreSQL only (the reports' target is on PostgreSQL): PG_TEST_URL or DATABASE_URL names
the server, and the figures are measured in a throw-away test database on it (test_<its
name>_reports); without one the benchmark says so on stderr and prints nothing.
REPORTS_BENCH_KEEP=1 keeps the seeded database and reuses it on the next run (for working
on the queries, not for comparing runs).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# bench_queue's desk is the one the reports are measured on: the same seed, not a copy.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queue import DONE_MIX, NOW, OPEN_MIX, OPEN_SHARE, median_ms, report, seed

TZ = ZoneInfo("Asia/Shanghai")
REPORT_RUNS = 5
EXPORT_RUNS = 3
EXPORT_ROWS = 100_000
# The case list finance takes out of the queue: every refunded case in US dollars.
EXPORT_QUERY = {"filtered": ["1"], "state": ["refunded"], "currency": ["USD"]}
REVIEWERS = 3
# How far back a desk's cases are still being worked here (see above).
OPEN_DAYS = 10


def main() -> None:
    count = int(os.environ.get("REPORTS_BENCH_CASES", "1000000"))
    pg_url = next((url for url in (os.environ.get("PG_TEST_URL", ""),
                                   os.environ.get("DATABASE_URL", ""))
                   if url.startswith(("postgres://", "postgresql://"))), "")
    if not pg_url:
        print("bench_reports: skipped, PG_TEST_URL or DATABASE_URL must name a PostgreSQL "
              "server", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as workdir:
        # The exports' files (and the secret key a fresh setup writes) stay in here.
        os.environ["REFUNDDESK_VAR_DIR"] = workdir
        os.environ["DATABASE_URL"] = pg_url
        run_postgresql(count)


def run_postgresql(count: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit(f"bench_reports: expected PostgreSQL, got {connection.vendor}")
    from refunddesk.reports.models import CaseTiming

    keep = os.environ.get("REPORTS_BENCH_KEEP") == "1"
    # A test database of its own: bench_queue's (test_<name>), kept or not, is not this one.
    test = connection.settings_dict["TEST"]
    test["NAME"] = test.get("NAME") or f"test_{connection.settings_dict['NAME']}_reports"
    with contextlib.redirect_stdout(sys.stderr):  # "Cache table … already exists."
        names = setup_databases(verbosity=0, interactive=False, keepdb=keep,
                                serialized_aliases=set())
    try:
        # The timings are written last: a kept database without them is seeded again.
        if not (keep and CaseTiming.objects.exists()):
            started = time.perf_counter()
            # bench_queue's own figure (its seed time) belongs to its own run's output.
            with transaction.atomic(), contextlib.redirect_stdout(sys.stderr):
                seed(count)
                enrich(count)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            print(f"reports_seed_seconds: {time.perf_counter() - started:.1f}", flush=True)
        from refunddesk.reports.models import MovesMark
        from refunddesk.reports.moves import roll_moves

        if not MovesMark.objects.filter(until__isnull=False).exists():
            # The worker's counts of the past days' state changes, as its first passes
            # after an upgrade would write them (two years, DAYS_PER_CALL days a pass).
            started = time.perf_counter()
            while roll_moves(NOW):
                pass
            print(f"reports_rollup_seconds: {time.perf_counter() - started:.1f}", flush=True)
        report(measure(), suffix="")
    finally:
        if not keep:
            teardown_databases(names, verbosity=0)


# -- seeding ------------------------------------------------------------------------------

CUSTOMER_REASONS = [  # code, Chinese, English, share of the requests that give it
    ("changed_mind", "不想要了", "Changed my mind", 30),
    ("not_working", "服务不可用", "The service did not work", 20),
    ("bought_by_mistake", "误购", "Bought by mistake", 15),
    ("too_expensive", "价格太高", "Too expensive", 10),
    ("slow", "性能不达预期", "Slower than expected", 10),
    ("moved_provider", "更换服务商", "Moved to another provider", 8),
    ("duplicate", "重复购买", "Bought twice", 5),
    ("other", "其他", "Other", 2),
]
REJECTION_REASONS = [
    ("not_eligible", "不符合退款条件", "Not eligible"),
    ("outside_window", "超出退款期限", "Outside the refund window"),
    ("used_up", "资源已使用", "The resources were used"),
    ("promotion", "促销商品不退", "Promotional purchase"),
    ("abuse", "疑似滥用", "Suspected abuse"),
    ("no_evidence", "材料不足", "Not enough evidence"),
]
GATEWAYS = ["alipay", "alipay", "alipay", "alipay", "wechat_pay", "wechat_pay", "wechat_pay",
            "stripe", "stripe", "paypal"]
ERROR_CODES = ["expired_card", "account_closed", "insufficient_funds", "timeout",
               "method_unavailable"]


def enrich(count: int) -> None:
    """Give bench_queue's cases what the reports read: one pass of set-based SQL per table,
    from a story of each case worked out once (a temporary table), pseudo-random but the
    same on every run (hashes of the case id, not random())."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from refunddesk.billing.models import Order, Payment
    from refunddesk.cases.models import (
        CaseEvent,
        CaseLine,
        ReasonCategory,
        RefundCase,
        RejectionReason,
    )
    from refunddesk.core.staff import sync_role_permissions
    from refunddesk.payouts.models import Payout
    from refunddesk.reports.models import CaseTiming

    users = get_user_model().objects
    agents = list(users.filter(username__startswith="bench-agent-").order_by("pk")
                  .values_list("pk", "username"))
    if not Group.objects.filter(name="reviewer").exists():
        sync_role_permissions()
    reviewer_role = Group.objects.get(name="reviewer")
    reviewers = []
    for n in range(REVIEWERS):
        user = users.create_user(f"bench-reviewer-{n}", is_staff=True)
        user.groups.add(reviewer_role)
        reviewers.append(user.pk)
    # The migrations may have made some of these lists' entries already.
    weighted = [ReasonCategory.objects.update_or_create(
                    code=code, defaults=dict(name_zh=zh, name_en=en, position=n))[0].pk
                for n, (code, zh, en, weight) in enumerate(CUSTOMER_REASONS)
                for _ in range(weight)]
    rejection = [RejectionReason.objects.update_or_create(
                     code=code, defaults=dict(name_zh=zh, name_en=en, position=n))[0].pk
                 for n, (code, zh, en) in enumerate(REJECTION_REASONS)]
    cases, lines = RefundCase._meta.db_table, CaseLine._meta.db_table
    events, payments = CaseEvent._meta.db_table, Payment._meta.db_table
    orders = Order._meta.db_table
    payouts, timings = Payout._meta.db_table, CaseTiming._meta.db_table
    users_table = get_user_model()._meta.db_table
    # Our own numbers, written into the statements (they are too many, and some of them
    # utility statements, for parameters).
    hour = "interval '1 hour'"
    now = f"'{NOW.isoformat()}'::timestamptz"
    agent_ids = _array([pk for pk, _ in agents], "bigint")
    reviewer_ids = _array(reviewers, "bigint")
    reason_ids, rejection_ids = _array(weighted, "bigint"), _array(rejection, "bigint")
    gateways, errors = _array(GATEWAYS, "text"), _array(ERROR_CODES, "text")

    with connection.cursor() as cursor:
        # u(id, n): the n-th uniform number in [0, 1) of a case, the same on every run.
        cursor.execute(
            "CREATE FUNCTION pg_temp.u(id bigint, n int) RETURNS float8 LANGUAGE sql "
            "IMMUTABLE AS $$ SELECT ((hashint8(id * 64 + n) & 2147483647) % 1000003) "
            "/ 1000003.0 $$")
        # bench_queue's open window (case ids after first_open), older than OPEN_DAYS:
        # ended as its older cases end.
        total = sum(weight for _, weight in DONE_MIX)
        ending, below = [], 0
        for state, weight in DONE_MIX:
            below += weight
            ending.append(f"WHEN pg_temp.u(id, 50) < {below / total} THEN '{state}'")
        open_states = ", ".join(f"'{state}'" for state, _ in OPEN_MIX)
        cursor.execute(f"""
            UPDATE {cases} SET state = CASE {' '.join(ending)} END, sla_due_at = NULL,
                   sla_paused_at = NULL, escalated_at = NULL, proposal = NULL
            WHERE id > {int(count * (1 - OPEN_SHARE))} AND state IN ({open_states})
              AND submitted_at < {now} - interval '{OPEN_DAYS} days'
        """)
        # What happened to each case and when; every moment no later than NOW.
        cursor.execute(f"""
            CREATE TEMPORARY TABLE bench_story AS
            SELECT b.id, b.state, b.submitted_at, b.order_id, b.currency, b.assessed,
                   f.*, t1.*, t2.*, t3.*, t4.*
            FROM (SELECT c.id, c.state, c.submitted_at, c.order_id, c.currency,
                         c.assessed_total_minor AS assessed, c.sla_paused_at,
                         c.approved_total_minor AS approved_before
                  FROM {cases} c) b
            CROSS JOIN LATERAL (SELECT
                b.state IN ('approved', 'paying', 'payout_failed', 'refunded') AS approves,
                b.state = 'refunded' AND pg_temp.u(b.id, 1) < 0.03 AS overturned,
                b.state IN ('rejected', 'appealed')
                    OR (b.state = 'closed' AND pg_temp.u(b.id, 2) < 0.6) AS refuses,
                b.state = 'closed' AND pg_temp.u(b.id, 2) < 0.18 AS appeal_refused,
                b.state = 'closed' AND pg_temp.u(b.id, 2) >= 0.6 AS info_deadline,
                b.state IN ('approved', 'paying', 'payout_failed', 'refunded')
                    AND pg_temp.u(b.id, 3) < 0.08 AS asked_info,
                pg_temp.u(b.id, 4) < 0.05 AS four_eyes,
                (b.state = 'refunded' AND pg_temp.u(b.id, 5) < 0.03)
                    OR b.state = 'payout_failed' AS payout_fails) f
            CROSS JOIN LATERAL (SELECT
                CASE WHEN b.state <> 'submitted'
                     THEN least(b.submitted_at + (1 + pg_temp.u(b.id, 6) * 600)
                                * interval '1 second', {now}) END AS routed_at,
                ({agent_ids})[1 + floor(pg_temp.u(b.id, 7) * {len(agents)})::int] AS agent_id,
                ({reviewer_ids})[1 + floor(pg_temp.u(b.id, 8) * {len(reviewers)})::int]
                    AS reviewer_id,
                CASE WHEN b.state = 'awaiting_customer' THEN b.sla_paused_at
                     WHEN f.info_deadline OR f.asked_info
                     THEN least(b.submitted_at + (2 + pg_temp.u(b.id, 9) * 40) * {hour},
                                {now}) END AS info_at) t1
            CROSS JOIN LATERAL (SELECT
                CASE WHEN f.asked_info
                     THEN least(t1.info_at + (2 + pg_temp.u(b.id, 10) * 46) * {hour},
                                {now}) END AS supplemented_at,
                CASE WHEN f.approves OR f.refuses
                     THEN least(coalesce(t1.info_at, b.submitted_at)
                                + (1 + 120 * pg_temp.u(b.id, 11) ^ 2) * {hour}
                                + CASE WHEN f.asked_info THEN 50 * {hour}
                                       ELSE interval '0' END, {now})
                     END AS first_decision_at,
                CASE WHEN b.state = 'withdrawn'
                     THEN least(b.submitted_at + (0.5 + pg_temp.u(b.id, 12) * 48) * {hour},
                                {now}) END AS withdrawn_at) t2
            CROSS JOIN LATERAL (SELECT
                CASE WHEN f.refuses OR f.overturned THEN t2.first_decision_at
                     END AS rejected_at,
                CASE WHEN b.state = 'appealed' OR f.appeal_refused OR f.overturned
                     THEN least(t2.first_decision_at
                                + (2 + pg_temp.u(b.id, 13) * 70) * {hour}, {now})
                     END AS appealed_at,
                -- the first answer the customer saw: a message, a question, or the decision
                CASE WHEN b.state <> 'submitted'
                     THEN least(b.submitted_at + (0.2 + 30 * pg_temp.u(b.id, 14) ^ 2) * {hour},
                                coalesce(t1.info_at, t2.first_decision_at, t2.withdrawn_at,
                                         'infinity'), {now})
                     END AS responded_at) t3
            CROSS JOIN LATERAL (SELECT
                CASE WHEN f.appeal_refused OR f.overturned
                     THEN least(t3.appealed_at + (24 + pg_temp.u(b.id, 15) * 96) * {hour},
                                {now}) END AS appeal_decided_at,
                CASE WHEN b.state IN ('paying', 'payout_failed', 'refunded')
                     THEN 2 + pg_temp.u(b.id, 16) * 60 END AS paying_after_minutes,
                CASE WHEN f.payout_fails
                     THEN 1 + pg_temp.u(b.id, 17) * 47 END AS failed_after_hours,
                CASE WHEN b.state = 'refunded'
                     THEN 0.02 + 72 * pg_temp.u(b.id, 18) ^ 3 END AS settled_after_hours,
                CASE WHEN pg_temp.u(b.id, 19) < 0.72 THEN 'original'
                     WHEN pg_temp.u(b.id, 19) < 0.87 THEN 'balance'
                     WHEN pg_temp.u(b.id, 19) < 0.95 THEN 'voucher'
                     ELSE 'gift' END AS destination,
                ({gateways})
                    [1 + floor(pg_temp.u(b.id, 20) * {len(GATEWAYS)})::int] AS gateway,
                ({errors})
                    [1 + floor(pg_temp.u(b.id, 21) * {len(ERROR_CODES)})::int] AS error_code,
                CASE WHEN pg_temp.u(b.id, 22) < 0.2 THEN greatest(b.assessed * 6 / 10, 1)
                     WHEN pg_temp.u(b.id, 22) >= 0.98 THEN b.assessed * 12 / 10
                     ELSE b.assessed END AS approved_amount) t4
        """)
        # The moments that follow from those, and who decided.
        cursor.execute(f"""
            CREATE TEMPORARY TABLE bench_moments AS
            SELECT s.*, m.*, p.*,
                   CASE WHEN s.approves THEN m.approved_at
                        WHEN s.appeal_refused THEN s.appeal_decided_at
                        WHEN s.refuses THEN s.rejected_at END AS decided_at,
                   CASE WHEN s.overturned OR s.appeal_refused THEN s.reviewer_id
                        WHEN s.approves OR s.refuses THEN s.agent_id END AS decided_by,
                   CASE WHEN s.approves THEN s.approved_amount
                        WHEN s.refuses THEN 0 END AS approved_total
            FROM bench_story s
            CROSS JOIN LATERAL (SELECT
                CASE WHEN s.overturned THEN s.appeal_decided_at
                     WHEN s.approves THEN s.first_decision_at END AS approved_at,
                CASE WHEN s.info_deadline THEN least(s.info_at + interval '7 days', {now})
                     WHEN s.appeal_refused THEN s.appeal_decided_at
                     WHEN s.state = 'closed'
                     THEN least(s.rejected_at + interval '15 days', {now})
                     END AS closed_at) m
            CROSS JOIN LATERAL (SELECT
                least(m.approved_at + s.paying_after_minutes * interval '1 minute', {now})
                    AS paying_at,
                least(m.approved_at + s.paying_after_minutes * interval '1 minute'
                      + s.failed_after_hours * {hour}, {now}) AS failed_at,
                least(m.approved_at + s.paying_after_minutes * interval '1 minute'
                      + coalesce(s.failed_after_hours + 2 + 20 * pg_temp.u(s.id, 23), 0)
                        * {hour}, {now}) AS retried_at) p
        """)
        cursor.execute(f"""
            CREATE TEMPORARY TABLE bench_ends AS
            SELECT m.*,
                   CASE WHEN m.state = 'refunded'
                        THEN least(m.retried_at + m.settled_after_hours * interval '1 hour',
                                   {now}) END AS settled_at
            FROM bench_moments m
        """)
        cursor.execute("CREATE UNIQUE INDEX ON bench_ends (id)")
        cursor.execute("ANALYZE bench_ends")

        cursor.execute(f"""
            UPDATE {cases} c SET
                reason_category_id = CASE WHEN pg_temp.u(c.id, 30) < 0.95
                    THEN ({reason_ids})
                         [1 + floor(pg_temp.u(c.id, 31) * {len(weighted)})::int] END,
                assessment = CASE
                    WHEN pg_temp.u(c.id, 32) >= 0.7 THEN c.assessment
                    WHEN pg_temp.u(c.id, 33) < 0.75 THEN '{{"outcome": "full"}}'::jsonb
                    WHEN pg_temp.u(c.id, 33) < 0.9 THEN '{{"outcome": "partial"}}'::jsonb
                    ELSE '{{"outcome": "none"}}'::jsonb END,
                first_responded_at = e.responded_at,
                first_response_due = coalesce(c.first_response_due,
                                              c.submitted_at + interval '24 hours'),
                review_due = c.submitted_at + interval '72 hours',
                decided_at = e.decided_at,
                decided_by_id = e.decided_by,
                approved_total_minor = e.approved_total,
                rejection_reason_id = CASE WHEN e.refuses OR e.overturned
                    THEN ({rejection_ids})
                         [1 + floor(pg_temp.u(c.id, 34) * {len(rejection)})::int] END,
                appeal_closes_at = e.rejected_at + interval '15 days',
                appealed_at = e.appealed_at,
                appeal_of_decision_by_id = CASE WHEN e.appealed_at IS NOT NULL
                                                THEN e.agent_id END,
                updated_at = greatest(c.submitted_at, e.responded_at, e.decided_at,
                                      e.closed_at, e.withdrawn_at, e.settled_at, e.paying_at,
                                      e.appealed_at)
            FROM bench_ends e WHERE e.id = c.id
        """)
        cursor.execute(f"""
            UPDATE {lines} l SET approved_minor = e.approved_total
            FROM bench_ends e WHERE e.id = l.case_id AND e.approved_total IS NOT NULL
        """)

        # Every order was paid once, by the route its refunds go back by.
        cursor.execute(f"""
            INSERT INTO {payments} (order_id, payment_id, position, method, funding,
                                    amount_minor, paid_at, gateway, reference)
            SELECT o.id, 'P1', 0,
                   CASE WHEN mod(o.id, 10) < 4 THEN 'alipay'
                        WHEN mod(o.id, 10) < 7 THEN 'wechat_pay'
                        WHEN mod(o.id, 10) < 9 THEN 'card' ELSE 'paypal' END,
                   'cash', 200000, o.placed_at, 'sandbox', 'PAY-' || o.id
            FROM {orders} o
        """)
        payout_columns = ("case_id, payment_id, destination, gateway, amount_minor, currency, "
                          "state, gateway_refund_id, attempts, last_error_code, "
                          "last_error_message, expected_at, submitted_at, settled_at, "
                          "next_attempt_at, fallback_reason, replaces_id, created_at, "
                          "updated_at")
        route = ("CASE WHEN e.destination = 'original' THEN e.gateway "
                 "ELSE e.destination END")
        # The failed payouts first (a refunded case's failure was followed by one that
        # arrived), then the one of every paying or refunded case.
        cursor.execute(f"""
            INSERT INTO {payouts} ({payout_columns})
            SELECT e.id, p.id, e.destination, {route}, e.approved_total, e.currency, 'failed',
                   '', 1, e.error_code, '', NULL, e.paying_at, NULL, NULL, '', NULL,
                   e.paying_at, e.failed_at
            FROM bench_ends e JOIN {payments} p ON p.order_id = e.order_id
            WHERE e.payout_fails AND e.approved_total > 0
            ORDER BY e.failed_at
        """)
        cursor.execute(f"""
            INSERT INTO {payouts} ({payout_columns})
            SELECT e.id, p.id, e.destination, {route}, e.approved_total, e.currency,
                   CASE WHEN e.state = 'refunded' THEN 'succeeded' ELSE 'submitted' END,
                   CASE WHEN e.state = 'refunded' THEN 'R' || e.id ELSE '' END, 1, '', '',
                   NULL, e.retried_at, e.settled_at,
                   CASE WHEN e.state = 'paying' THEN {now} END,
                   CASE WHEN e.destination = 'balance' AND pg_temp.u(e.id, 35) < 0.3
                        THEN 'method_unavailable' ELSE '' END, NULL, e.retried_at,
                   coalesce(e.settled_at, e.retried_at)
            FROM bench_ends e JOIN {payments} p ON p.order_id = e.order_id
            WHERE e.state IN ('paying', 'refunded') AND e.approved_total > 0
            ORDER BY coalesce(e.settled_at, e.retried_at)
        """)

        # The audit trail: a row per moment that happened, in the order they happened.
        cursor.execute(f"""
            INSERT INTO {events} (case_id, at, actor_id, actor_kind, action, from_state,
                                  to_state, data, is_customer_visible)
            SELECT e.id, v.at, v.actor, v.kind, v.action, v.before, v.after, v.data, v.shown
            FROM bench_ends e
            LEFT JOIN {users_table} proposer ON proposer.id = e.agent_id
            CROSS JOIN LATERAL (VALUES
                (e.submitted_at, NULL::int, 'customer', 'submitted', '', 'submitted',
                 '{{}}'::jsonb, true),
                (e.routed_at, NULL, 'system', 'routed_to_review', 'submitted', 'in_review',
                 '{{"system": "router"}}', true),
                (CASE WHEN pg_temp.u(e.id, 40) < 0.7 THEN e.routed_at + interval '5 minutes'
                      END, e.agent_id, 'staff', 'assigned', 'in_review', 'in_review', '{{}}',
                 false),
                (CASE WHEN e.responded_at < coalesce(e.info_at, e.first_decision_at,
                                                     e.withdrawn_at, 'infinity')
                      THEN e.responded_at END, e.agent_id, 'staff', 'message_posted',
                 'in_review', 'in_review', '{{}}', true),
                (e.info_at, e.agent_id, 'staff', 'information_requested', 'in_review',
                 'awaiting_customer', '{{}}', true),
                (e.supplemented_at, NULL, 'customer', 'supplemented', 'awaiting_customer',
                 'in_review', '{{}}', true),
                (CASE WHEN e.info_deadline THEN e.closed_at END, NULL, 'system',
                 'closed_info_deadline', 'awaiting_customer', 'closed', '{{}}', true),
                (e.withdrawn_at, NULL, 'customer', 'withdrawn', 'in_review', 'withdrawn',
                 '{{}}', true),
                (e.rejected_at, e.agent_id, 'staff', 'rejected', 'in_review', 'rejected',
                 '{{}}', true),
                (e.appealed_at, NULL, 'customer', 'appealed', 'rejected', 'appealed', '{{}}',
                 true),
                (CASE WHEN e.appeal_refused THEN e.appeal_decided_at END, e.reviewer_id,
                 'staff', 'rejected', 'appealed', 'closed', '{{}}', true),
                (CASE WHEN e.state = 'closed' AND NOT e.info_deadline
                           AND NOT e.appeal_refused THEN e.closed_at END, NULL, 'system',
                 'closed_appeal_window', 'rejected', 'closed', '{{}}', true),
                (e.approved_at, CASE WHEN e.four_eyes OR e.overturned THEN e.reviewer_id
                                     ELSE e.agent_id END, 'staff', 'approved',
                 CASE WHEN e.overturned THEN 'appealed' ELSE 'in_review' END, 'approved',
                 jsonb_build_object('is_override', e.approved_amount > e.assessed)
                 || CASE WHEN e.four_eyes AND NOT e.overturned
                         THEN jsonb_build_object('proposed_by', proposer.username)
                         ELSE '{{}}' END, true),
                (CASE WHEN e.paying_after_minutes IS NOT NULL THEN e.paying_at END, NULL,
                 'system', 'payouts_submitted', 'approved', 'paying', '{{}}', true),
                (CASE WHEN e.payout_fails THEN e.failed_at END, NULL, 'system',
                 'payout_failed', 'paying', 'payout_failed', '{{}}', true),
                (CASE WHEN e.payout_fails AND e.state = 'refunded' THEN e.retried_at END,
                 NULL, 'staff', 'retry', 'payout_failed', 'paying', '{{}}', true),
                (e.settled_at, NULL, 'system', 'all_settled', 'paying', 'refunded', '{{}}',
                 true)
            ) AS v(at, actor, kind, action, before, after, data, shown)
            WHERE v.at IS NOT NULL
            ORDER BY v.at
        """)

        # Service times in business hours as the worker would have stored them: the
        # wall-clock time less nights and weekends, roughly.
        cursor.execute(f"""
            INSERT INTO {timings} (case_id, submitted_at, first_response_seconds,
                                   decision_seconds, money_back_seconds, refreshed_at)
            SELECT e.id, e.submitted_at,
                   (extract(epoch FROM e.responded_at - e.submitted_at) * 0.6)::bigint,
                   (extract(epoch FROM coalesce(e.rejected_at, e.first_decision_at)
                                       - e.submitted_at) * 0.6)::bigint,
                   (extract(epoch FROM e.settled_at - e.submitted_at) * 0.6)::bigint,
                   {now}
            FROM bench_ends e
        """)
        for table in ("bench_ends", "bench_moments", "bench_story"):
            cursor.execute(f"DROP TABLE {table}")


def _array(values: list, kind: str) -> str:
    items = ", ".join(f"'{value}'" if isinstance(value, str) else str(int(value))
                      for value in values)
    return f"ARRAY[{items}]::{kind}[]"


# -- measuring ----------------------------------------------------------------------------

def measure() -> dict[str, float]:
    from django.db import connection

    from refunddesk.reports.catalogue import REPORTS
    from refunddesk.reports.filters import ReportFilters
    from refunddesk.reports.sections import Context

    today = NOW.astimezone(TZ).date()
    month = ReportFilters(start=today - timedelta(days=29), end=today, tz=TZ)
    year = ReportFilters(start=today - timedelta(days=364), end=today, tz=TZ)

    def build(name: str, filters: ReportFilters):
        def run() -> None:
            sections = REPORTS[name].build(Context(filters, NOW, "zh-hans"))
            assert sections, f"report {name} built nothing"
        return run

    figures = {}
    for suffix, filters in (("", month), ("_year", year)):
        for name in REPORTS:
            figures[f"report_{name}{suffix}_ms"] = median_ms(build(name, filters),
                                                             runs=REPORT_RUNS)
    figures["export_100k_rows_s"] = export_seconds()
    connection.close()
    return figures


def export_seconds() -> float:
    """A reviewer's Excel export of the queue's list, as the console asks for it (over
    10,000 rows: recorded, enqueued, built by the task), per EXPORT_ROWS rows."""
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage

    from refunddesk.reports.exports import build_export, request_export
    from refunddesk.reports.models import Export, ExportState

    reviewer = get_user_model().objects.get(username="bench-reviewer-0")
    params = {"query": EXPORT_QUERY, "tz": TZ.key}
    timings, rows = [], 0
    for _ in range(EXPORT_RUNS):
        began = time.perf_counter()
        export = request_export("cases", params, "xlsx", actor=reviewer, language="zh-hans",
                                now=NOW)
        state = build_export.call(export.pk)
        timings.append(time.perf_counter() - began)
        done = Export.objects.get(pk=export.pk)
        assert state == ExportState.DONE, done.error
        rows = done.rows_total
        default_storage.delete(done.file.name)
    assert rows, "the export had no rows"
    return statistics.median(timings) * EXPORT_ROWS / rows


if __name__ == "__main__":
    main()
