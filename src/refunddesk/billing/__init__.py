"""The mirror of the merchant's billing system: accounts, products, orders, payments, usage,
subscriptions and the stored-balance ledger. RefundDesk reads these; it never bills."""
