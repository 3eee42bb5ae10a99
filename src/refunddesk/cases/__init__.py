"""Refund cases: what a customer asked for, what the policy said, and every step since."""
