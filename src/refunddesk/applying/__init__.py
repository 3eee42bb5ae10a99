"""Applying for a refund on a web page: the customer in the portal, or an agent in the
console on a caller's behalf. What both channels show and take (the form, the lines to
choose from, the live quote) lives here, one layer below them, so that neither channel
imports the other (tests/test_architecture.py)."""
