"""The refund policy domain.

Pure Python on purpose: nothing here imports Django, touches the database or reads the
clock, so every money rule can be tested on its own and reasoned about as plain business
logic (time is always passed in).
"""
