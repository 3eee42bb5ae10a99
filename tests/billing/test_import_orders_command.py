"""`refunddesk import orders FILE`: good lines land, bad ones are named, re-runs are no-ops."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from refunddesk.billing.models import Account, Order, OrderLine, Payment, Product

pytestmark = pytest.mark.django_db(transaction=True)


def write_jsonl(path, *orders):
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)
                              for o in orders) + "\n", encoding="utf-8")
    return path


def run_import(path, capsys):
    """Run the command in-process; return (exit status, stdout, stderr)."""
    try:
        call_command("import", "orders", str(path), "--no-progress")
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def second_order(example_order):
    other = json.loads(json.dumps(example_order))
    other["id"] = "TC-20260302-0002"
    return other


def test_a_good_line_is_imported_with_its_lines_and_payments(tmp_path, capsys, example_order):
    status, out, err = run_import(write_jsonl(tmp_path / "o.jsonl", example_order), capsys)

    assert (status, err) == (0, "")
    assert "1 created" in out
    order = Order.objects.get(external_id="TC-20260301-0001")
    assert order.account.email == "li.lei@example.com"
    assert [(p.payment_id, p.amount_minor) for p in order.payments.all()] == [
        ("P1", 90000), ("P2", 6000)]
    assert order.lines.get().amount_paid_minor == 96000


def test_one_bad_order_among_good_ones_is_named_and_the_good_ones_land(
        tmp_path, capsys, example_order):
    bad = second_order(example_order)
    bad["payments"][0]["amount"] = "nine hundred"
    third = second_order(example_order)
    third["id"] = "TC-20260303-0003"
    path = write_jsonl(tmp_path / "o.jsonl", example_order, bad, third)

    status, out, err = run_import(path, capsys)

    assert status == 1
    assert err.strip() == ('line 2: payments[0].amount: not a decimal amount: use the digits '
                           '0-9 and one "." (like "960.00")')
    assert "3 orders read: 2 created, 0 updated, 0 unchanged, 1 failed" in out
    assert set(Order.objects.values_list("external_id", flat=True)) == {
        "TC-20260301-0001", "TC-20260303-0003"}


def test_a_line_that_is_not_json_is_named(tmp_path, capsys, example_order):
    path = write_jsonl(tmp_path / "o.jsonl", example_order, '{"id": "broken",')

    status, _, err = run_import(path, capsys)

    assert status == 1
    assert err.startswith("line 2: not valid JSON:")
    assert Order.objects.count() == 1


def test_mixed_currencies_in_one_order_are_rejected_and_nothing_is_written(
        tmp_path, capsys, example_order):
    example_order["payments"][1]["currency"] = "USD"

    status, _, err = run_import(write_jsonl(tmp_path / "o.jsonl", example_order), capsys)

    assert status == 1
    assert "line 1: payments[1].currency: USD differs from the order's currency CNY" in err
    assert not Order.objects.exists()
    assert not Account.objects.exists()
    assert not Product.objects.exists()


def test_importing_the_same_file_again_changes_nothing(tmp_path, capsys, example_order):
    path = write_jsonl(tmp_path / "o.jsonl", example_order, second_order(example_order))
    run_import(path, capsys)
    before = list(Order.objects.values_list("pk", "updated_at").order_by("pk"))
    line_pks = list(OrderLine.objects.values_list("pk", flat=True).order_by("pk"))

    status, out, _ = run_import(path, capsys)

    assert status == 0
    assert "2 orders read: 0 created, 0 updated, 2 unchanged, 0 failed" in out
    assert list(Order.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert list(OrderLine.objects.values_list("pk", flat=True).order_by("pk")) == line_pks


def test_a_changed_order_is_updated_in_place_keeping_its_line_and_payment_rows(
        tmp_path, capsys, example_order):
    run_import(write_jsonl(tmp_path / "a.jsonl", example_order), capsys)
    line_pk = OrderLine.objects.get().pk
    payment_pk = Payment.objects.get(payment_id="P1").pk
    example_order["invoiced"] = True
    example_order["lines"][0]["flags"] = ["transferred"]

    status, out, _ = run_import(write_jsonl(tmp_path / "b.jsonl", example_order), capsys)

    assert status == 0 and "1 updated" in out
    order = Order.objects.get()
    assert order.is_invoiced
    assert OrderLine.objects.get().pk == line_pk
    assert OrderLine.objects.get().flags == ["transferred"]
    assert Payment.objects.get(payment_id="P1").pk == payment_pk


def test_an_order_cannot_move_to_another_account(tmp_path, capsys, example_order):
    run_import(write_jsonl(tmp_path / "a.jsonl", example_order), capsys)
    example_order["account"]["id"] = "acct-9999"

    status, _, err = run_import(write_jsonl(tmp_path / "b.jsonl", example_order), capsys)

    assert status == 1
    assert "line 1: account.id: order TC-20260301-0001 belongs to account acct-1001" in err
    assert not Account.objects.filter(external_id="acct-9999").exists()


def test_a_product_keeps_its_category(tmp_path, capsys, example_order):
    other = second_order(example_order)
    other["lines"][0]["category"] = "vpn"

    status, _, err = run_import(write_jsonl(tmp_path / "o.jsonl", example_order, other), capsys)

    assert status == 1
    assert "line 2: lines[0].category: product cvm is a cloud_server, not vpn" in err


def test_blank_lines_are_skipped(tmp_path, capsys, example_order):
    path = tmp_path / "o.jsonl"
    path.write_text("\n" + json.dumps(example_order) + "\n\n", encoding="utf-8")

    status, out, _ = run_import(path, capsys)

    assert status == 0 and "1 orders read: 1 created" in out


def test_a_missing_file_is_a_usage_error():
    with pytest.raises(CommandError, match=r"no-such\.jsonl: no such file"):
        call_command("import", "orders", "no-such.jsonl")


def test_the_installed_command_exits_1_and_names_the_bad_line(tmp_path, example_order):
    bad = second_order(example_order)
    bad["payments"][0]["amount"] = "9.999"
    path = write_jsonl(tmp_path / "o.jsonl", example_order, bad)
    env_database = _database_url_for_subprocess(tmp_path)

    first = subprocess.run([sys.executable, "-m", "refunddesk.cli", "import", "orders", str(path)],
                           capture_output=True, text=True, env=env_database, check=False)
    again = subprocess.run([sys.executable, "-m", "refunddesk.cli", "import", "orders", str(path)],
                           capture_output=True, text=True, env=env_database, check=False)

    assert first.returncode == 1, first.stderr
    assert "line 2: payments[0].amount: more decimal places than CNY has (2)" in first.stderr
    assert "1 created" in first.stdout
    assert again.returncode == 1
    assert "0 created, 0 updated, 1 unchanged, 1 failed" in again.stdout


def _database_url_for_subprocess(tmp_path):
    """A fresh migrated SQLite file: the subprocess cannot see the test's database."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               REFUNDDESK_VAR_DIR=str(tmp_path / "var"))
    subprocess.run([sys.executable, "-m", "refunddesk.cli", "migrate", "-v0"], env=env,
                   check=True)
    return env
