"""The `Idempotency-Key` header as the OpenAPI document shows it on every POST;
idempotency.py (a middleware) does the work for all of them."""

IDEMPOTENT = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Send the same key when you retry a request: you get the first answer "
                   "again (header `Idempotent-Replayed: true`) instead of a second effect. "
                   "The same key with a different request is refused (422 "
                   "`idempotency_key_reused`), and while the first request runs (409 "
                   "`idempotency_key_in_use`). Keys are kept for 24 hours.",
}]}

