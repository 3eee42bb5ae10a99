"""What the two demo storefronts sell: products with their refund policy, plans and prices.

Prices are integer minor units per currency. `list_price` is the catalogue price before any
discount; `price` is what a plan normally costs (a yearly plan is cheaper than twelve
months). Order generation may discount further, never above the list price.
"""

from __future__ import annotations

from dataclasses import dataclass

from refunddesk.billing.models import BillingMode, Category


@dataclass(frozen=True)
class ProductSpec:
    code: str
    category: str
    name_zh: str
    name_en: str
    policy_id: str


CVM = ProductSpec("cvm", Category.CLOUD_SERVER.value, "云服务器 CVM（包年包月）",
                  "Cloud Virtual Machine (monthly/yearly)", "tencent-cloud")
CVM_PAYG = ProductSpec("cvm-payg", Category.CLOUD_SERVER.value, "云服务器 CVM（按量计费）",
                       "Cloud Virtual Machine (pay-as-you-go)", "tencent-cloud")
BACKUP = ProductSpec("backup", Category.BACKUP.value, "云硬盘备份", "Cloud Disk Backup",
                     "tencent-cloud")
DOMAIN = ProductSpec("domain", Category.DOMAIN.value, "域名注册", "Domain Registration",
                     "huawei-cloud")
SSL = ProductSpec("ssl", Category.SSL_CERTIFICATE.value, "SSL 证书", "SSL Certificate",
                  "alibaba-cloud")
VPN = ProductSpec("vpn", Category.VPN.value, "港湾 VPN", "Harbor VPN", "vpn-30-day")

PRODUCTS = (CVM, CVM_PAYG, BACKUP, DOMAIN, SSL, VPN)
PRODUCT_BY_CODE = {p.code: p for p in PRODUCTS}

# Products whose prepaid periods run on as a subscription that renews.
SUBSCRIBED_PRODUCTS = frozenset({CVM.code, BACKUP.code, VPN.code})


@dataclass(frozen=True, eq=False)
class Plan:
    sku: str
    product: ProductSpec
    billing: str
    unit: str
    count: int
    list_prices: dict[str, int]
    prices: dict[str, int]

    @property
    def term(self) -> tuple[str, int] | None:
        return (self.unit, self.count) if self.unit else None

    def list_price(self, currency: str) -> int:
        return self.list_prices[currency]

    def price(self, currency: str) -> int:
        return self.prices[currency]


def _percent(prices: dict[str, int], percent: int) -> dict[str, int]:
    # CNY prices end in whole jiao (0.10), as Chinese price lists do; USD in cents.
    step = {"CNY": 10, "USD": 1}
    return {c: amount * percent // 100 // step[c] * step[c] for c, amount in prices.items()}


def _times(prices: dict[str, int], factor: int) -> dict[str, int]:
    return {c: amount * factor for c, amount in prices.items()}


def _plan(sku: str, product: ProductSpec, unit: str, count: int, list_prices: dict[str, int],
          prices: dict[str, int] | None = None, billing: str = BillingMode.PREPAID.value) -> Plan:
    return Plan(sku, product, billing, unit, count, list_prices, prices or dict(list_prices))


# Instance sizes, smallest first (an upgrade moves one step up), with monthly prices.
CVM_SIZES = ("small", "medium", "large", "xlarge", "2xlarge")
_CVM_MONTHLY = {
    "small": {"CNY": 6800, "USD": 990},
    "medium": {"CNY": 13800, "USD": 1990},
    "large": {"CNY": 27600, "USD": 3990},
    "xlarge": {"CNY": 55200, "USD": 7990},
    "2xlarge": {"CNY": 110400, "USD": 15990},
}
_CVM_HOURLY = {
    "small": {"CNY": 19, "USD": 3},
    "medium": {"CNY": 38, "USD": 6},
    "large": {"CNY": 76, "USD": 11},
    "xlarge": {"CNY": 152, "USD": 22},
    "2xlarge": {"CNY": 304, "USD": 44},
}

CVM_MONTHLY = {size: _plan(f"cvm.s5.{size}", CVM, "month", 1, prices)
               for size, prices in _CVM_MONTHLY.items()}
# Yearly at 83 % of twelve months (包年 8.3 折), the list price still twelve months.
CVM_YEARLY = {size: _plan(f"cvm.s5.{size}", CVM, "year", 1, _times(prices, 12),
                          _percent(_times(prices, 12), 83))
              for size, prices in _CVM_MONTHLY.items()}
CVM_PAYG_PLANS = {size: _plan(f"cvm-payg.s5.{size}", CVM_PAYG, "", 0, prices,
                              billing=BillingMode.PAYG.value)
                  for size, prices in _CVM_HOURLY.items()}
# The new-customer offer: a small server for a year at 99 yuan, not refundable.
CVM_NEW_CUSTOMER_YEARLY_PRICE = {"CNY": 9900, "USD": 1500}

_BACKUP_MONTHLY = {"100g": {"CNY": 3000, "USD": 450}, "500g": {"CNY": 12000, "USD": 1790}}


def backup_plan(size: str, months: int) -> Plan:
    """Backup is sold by the month; bought with a yearly server, twelve months at once."""
    monthly = _BACKUP_MONTHLY[size]
    listed = _times(monthly, months)
    return _plan(f"backup.{size}", BACKUP, "month", months, listed,
                 listed if months == 1 else _percent(listed, 85))


BACKUP_SIZES = tuple(_BACKUP_MONTHLY)

_DOMAIN_YEARLY = {
    "com": {"CNY": 7900, "USD": 1299},
    "cn": {"CNY": 3900, "USD": 899},
    "net": {"CNY": 8500, "USD": 1499},
    "top": {"CNY": 2900, "USD": 599},
}
DOMAIN_TLDS = tuple(_DOMAIN_YEARLY)
# First year of a .top for 9.90 yuan: a promotion, and marked non-refundable.
DOMAIN_TOP_FIRST_YEAR = {"CNY": 990, "USD": 199}


def domain_plan(tld: str, years: int) -> Plan:
    return _plan(f"domain.{tld}", DOMAIN, "year", years, _times(_DOMAIN_YEARLY[tld], years))


DOMAIN_TRANSFER_IN = _plan("domain.transfer-in", DOMAIN, "", 0, {"CNY": 4500, "USD": 799},
                           billing=BillingMode.ONE_TIME.value)

SSL_PLANS = (
    _plan("ssl.dv.single", SSL, "year", 1, {"CNY": 39900, "USD": 5900}),
    _plan("ssl.ov.single", SSL, "year", 1, {"CNY": 388000, "USD": 54900}),
    _plan("ssl.ov.wildcard", SSL, "year", 1, {"CNY": 980000, "USD": 139900}),
    _plan("ssl.ev.single", SSL, "year", 1, {"CNY": 688000, "USD": 97900}),
)

_VPN_MONTHLY = {"CNY": 8800, "USD": 1299}
VPN_MONTHLY = _plan("vpn.monthly", VPN, "month", 1, _VPN_MONTHLY)
VPN_YEARLY = _plan("vpn.yearly", VPN, "year", 1, _times(_VPN_MONTHLY, 12),
                   {"CNY": 59800, "USD": 9999})
VPN_TWO_YEAR = _plan("vpn.two-year", VPN, "year", 2, _times(_VPN_MONTHLY, 24),
                     {"CNY": 86400, "USD": 14376})
