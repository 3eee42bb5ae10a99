"""The customer portal: my account, apply for a refund, my refunds, and /track."""
