"""Signatures: ``Remag-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``.

During a secret rotation's grace period the header carries one ``v1`` per valid secret
(the new one first). A receiver accepts the delivery if any ``v1`` matches its secret and
``t`` is less than five minutes old. docs/webhooks.md has a receiver using only the
standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Remag-Signature"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(body: bytes, secrets_: list[str], *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    parts = [f"t={t}"]
    for secret in secrets_:
        parts.append("v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
    return ",".join(parts)


def verify(secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when ``header`` carries a valid signature of ``body`` made with ``secret``
    within ``tolerance`` seconds. (The same recipe as in docs/webhooks.md.)"""
    try:
        items = [item.split("=", 1) for item in header.split(",")]
        t = int(next(value for key, value in items if key == "t"))
    except (ValueError, StopIteration):
        return False
    if abs(time.time() - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in items)
