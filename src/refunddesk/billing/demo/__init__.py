"""Deterministic demo data: a cloud storefront and a VPN storefront with 18 months of
realistic customers, orders, payments, subscriptions and balances.
"""

from refunddesk.billing.demo.loading import DemoSummary, generate_orders, load_demo_data

__all__ = ["DemoSummary", "generate_orders", "load_demo_data"]
