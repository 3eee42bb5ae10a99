"""RefundDesk: a self-hosted refund desk for subscriptions and prepaid services."""

__version__ = "0.1.0"
