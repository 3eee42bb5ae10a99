"""Telling customers what happened: e-mail sent by the worker from an outbox that commits
with the change it reports."""
