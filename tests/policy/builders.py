"""Small builders for order facts, so each preset test states only what it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refunddesk.policy.engine import assess
from refunddesk.policy.presets import load_preset


def at(text: str) -> datetime:
    """An aware moment from "2026-03-01 10:00:00" (Beijing time unless an offset is given)."""
    if "+" not in text[10:] and not text.endswith("Z"):
        text += "+08:00"
    return datetime.fromisoformat(text)


def iso(text: str) -> str:
    return at(text).isoformat()


def line(line_id: str = "1", *, paid: str, start: str | None, end: str | None = None,
         term: tuple[str, int] | None = ("year", 1), product: str = "cvm",
         category: str = "cloud_server", billing: str = "prepaid", flags: tuple[str, ...] = (),
         **extra: Any) -> dict[str, Any]:
    facts = {
        "id": line_id, "sku": f"{product}.standard", "product": product, "category": category,
        "billing": billing, "term": {"unit": term[0], "count": term[1]} if term else None,
        "service_start": iso(start) if start else None,
        "service_end": iso(end) if end else None,
        "list_price": paid, "amount_paid": paid, "flags": list(flags),
    }
    return facts | extra


def pay(payment_id: str, method: str, amount: str, funding: str | None = None) -> dict[str, Any]:
    funding = funding or {"balance": "balance", "gift": "gift", "voucher": "voucher"}.get(
        method, "cash")
    return {"id": payment_id, "method": method, "funding": funding, "amount": amount}


def order(*lines: dict[str, Any], payments: list[dict[str, Any]], placed: str,
          kind: str = "new", channel: str = "direct", currency: str = "CNY",
          invoiced: bool = False, refunds: list[dict[str, Any]] | None = None,
          orders: list[dict[str, Any]] | None = None, order_id: str = "O-1") -> dict[str, Any]:
    return {
        "id": order_id, "account": {"id": "acct-1", "email": "a@example.com", "name": "王芳",
                                    "created_at": iso("2024-01-01 00:00:00")},
        "kind": kind, "channel": channel, "placed_at": iso(placed), "currency": currency,
        "invoiced": invoiced, "lines": list(lines), "payments": payments,
        "history": {"refunds": refunds or [], "orders": orders or []},
    }


def earlier_refund(when: str, *, rule: str, product: str = "cvm", **extra: Any
                   ) -> dict[str, Any]:
    return {"at": iso(when), "product": product, "rule": rule} | extra


def quote(policy: str, facts: dict[str, Any], when: str, **kwargs: Any) -> dict[str, Any]:
    """The assessment's JSON (English explanation) for `facts` asked at `when`."""
    policy_obj = load_preset(policy) if "/" not in policy else _load_file(policy)
    return assess(policy_obj, facts, as_of=at(when), **kwargs).to_dict("en")


def _load_file(path: str) -> Any:
    from refunddesk.policy.presets import load_policy

    return load_policy(path)


def money_back(result: dict[str, Any]) -> dict[str, str]:
    """payment id → amount, from an assessment's allocation."""
    return {entry["payment"]: entry["amount"] for entry in result["allocation"]}


def step_codes(result: dict[str, Any]) -> list[str]:
    return [step["code"] for step in result["steps"]]
