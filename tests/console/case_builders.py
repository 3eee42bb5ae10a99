"""Cases for the console's case page tests, built through the real import and actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from refunddesk.billing.models import Order, Product
from refunddesk.cases import actions
from refunddesk.cases.models import CaseEvent, RefundCase
from tests.portal.builders import customer_for, import_order, when

EN = {"Accept-Language": "en"}

# The smallest PNG: one transparent pixel.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def case_url(case: RefundCase, name: str = "console:case", *args: Any) -> str:
    return reverse(name, args=[case.tracking_number, *args])


def page_of(client: Any, case: RefundCase) -> str:
    response = client.get(case_url(case), headers=EN)
    assert response.status_code == 200
    return response.content.decode()


def png(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def text_file(name: str = "log.txt", text: str = "error 42 at boot\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def cloud_order(order_id: str, account_id: str, *, lines: tuple[str, ...] = ("1200.00",),
                started_days_ago: float = 30, policy: str = "tencent-cloud",
                usage: bool = False) -> Order:
    """A new prepaid server order with one line per amount, all paid by Alipay, its service
    started `started_days_ago` days ago: past the five days, so its case is reviewed.
    Under `huawei-cloud` the product is Huawei's ECS (four eyes above CNY 50000.00)."""
    product = {"tencent-cloud": "cvm", "huawei-cloud": "ecs"}[policy]
    Product.objects.update_or_create(code="ecs", defaults=dict(
        category="cloud_server", name_zh="弹性云服务器 ECS", name_en="Elastic Cloud Server",
        policy_id="huawei-cloud"))
    start = timezone.now() - timedelta(days=started_days_ago)
    total = sum(int(amount.replace(".", "")) for amount in lines)
    facts: dict[str, Any] = {
        "id": order_id,
        "account": {"id": account_id, "email": f"{account_id}@example.com", "name": "王芳",
                    "created_at": "2025-01-01T09:00:00+08:00"},
        "kind": "new", "channel": "direct", "placed_at": when(start - timedelta(minutes=5)),
        "currency": "CNY", "invoiced": False,
        "lines": [{
            "id": str(n), "sku": f"{product}.s{n}.large", "product": product,
            "category": "cloud_server", "billing": "prepaid",
            "term": {"unit": "year", "count": 1},
            "service_start": when(start), "service_end": when(start + timedelta(days=365)),
            "list_price": amount, "amount_paid": amount, "flags": [],
        } for n, amount in enumerate(lines, start=1)],
        "payments": [{"id": "P1", "method": "alipay", "funding": "cash",
                      "amount": f"{total // 100}.{total % 100:02d}",
                      "paid_at": when(start - timedelta(minutes=4)), "gateway": "sandbox",
                      "reference": f"2026{order_id[-4:]}8812"}],
    }
    if usage:
        facts["lines"][0]["usage"] = [{"metric": "cpu_hours", "quantity": "712.5",
                                       "unit": "h", "period_start": when(start),
                                       "period_end": when(start + timedelta(days=29))}]
    return import_order(facts)


def reviewed_case(order_id: str = "TC-CASE-0001", *, lines: tuple[str, ...] = ("1200.00",),
                  policy: str = "tencent-cloud", uploads: tuple[Any, ...] = (),
                  language: str = "en", usage: bool = False) -> RefundCase:
    """A customer's portal case for every line of a fresh order, waiting in review."""
    order = cloud_order(order_id, f"acct-{order_id.lower()}", lines=lines, policy=policy,
                        usage=usage)
    customer = customer_for(order.account)
    case = actions.submit(account=order.account, order=order,
                          line_ids=[str(n) for n in range(1, len(lines) + 1)],
                          actor=customer, channel="portal", uploads=list(uploads),
                          language=language)
    assert case.state == "in_review"
    return case


def large_case() -> RefundCase:
    """A Huawei Cloud case assessed above the policy's four-eyes threshold (CNY 50000.00)."""
    case = reviewed_case("HW-LARGE-0001", lines=("120000.00",), policy="huawei-cloud")
    assert case.assessed_total_minor > 50000_00
    return case


def minor(case: RefundCase) -> dict[str, int | None]:
    """The approved amount of each line of the case, by order line id."""
    return {line.order_line.line_id: line.approved_minor
            for line in case.lines.select_related("order_line")}


def post(client: Any, case: RefundCase, action: str, data: Any = None, **kwargs: Any) -> Any:
    """POST to one of the case page's action views, in English."""
    return client.post(case_url(case, f"console:case_{action}"), data or {}, headers=EN,
                       **kwargs)


def fresh(case: RefundCase) -> RefundCase:
    return RefundCase.objects.get(pk=case.pk)


def amounts(case: RefundCase, *values: str) -> dict[str, str]:
    """The approve form's data: one amount per line, in line order."""
    return {f"amount_{index}": value for index, value in enumerate(values)}


def assessed(case: RefundCase) -> list[str]:
    """The assessed amount of each line, as the approve form shows it."""
    return [f"{line.assessed_minor // 100}.{line.assessed_minor % 100:02d}"
            for line in case.lines.order_by("order_line__position")]


def event_count(case: RefundCase) -> int:
    return CaseEvent.objects.filter(case=case).count()
