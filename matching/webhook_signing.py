"""Webhook signatures per the Standard Webhooks scheme (https://www.standardwebhooks.com/).

Every delivery carries three headers:

- `webhook-id`: the message id, the same on every retry of one delivery (receivers dedupe on it);
- `webhook-timestamp`: seconds since the epoch when this attempt was signed;
- `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
  one per secret in force: the subscription's secret and, during the grace period after a
  rotation, the previous one too, so a receiver holding either verifies the delivery.

A secret is `whsec_` followed by the base64 of its key bytes (24 random bytes for the ones the
portal draws). The scheme is a few lines of hmac, so sending needs no library; the tests check that
the reference receiver library (PyPI `standardwebhooks`, a dev dependency) verifies real deliveries,
rotated secrets included, and signs the specification's example as we do. `verify` is the receiver's side,
used by the tests and shown to integrators; it follows the reference libraries (5-minute tolerance,
constant-time comparison, any one matching v1 signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"
KEY_BYTES = 24
TOLERANCE = 5 * 60  # seconds a receiver accepts a timestamp away from its clock
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class InvalidSignature(ValueError):
    pass


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def key_of(secret: str) -> bytes:
    """The key bytes of a `whsec_<base64>` secret. A secret without the prefix (set by hand in admin or
    the shell) is its own UTF-8 bytes, as secrets were before this scheme; the migration rewrote those
    as whsec_ + base64 of the same bytes, so the key did not change."""
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX) :], validate=True)
    return secret.encode()


def is_valid_secret(secret: str, *, min_bytes: int = 16, max_bytes: int = 64) -> bool:
    if not secret.startswith(PREFIX):
        return False
    try:
        return min_bytes <= len(key_of(secret)) <= max_bytes
    except ValueError:
        return False


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """One `v1,<base64>` signature of the message with `secret`."""
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets_in_force: Iterable[str], *, msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers of a delivery, signed with every secret in force."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signatures = [signature(secret, msg_id, stamp, body) for secret in secrets_in_force if secret]
    return {ID_HEADER: msg_id, TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: " ".join(signatures)}


def verify(secret: str, received: Mapping[str, str], body: bytes, *, now: float | None = None) -> None:
    """The receiver's check: raises InvalidSignature unless one v1 signature matches within TOLERANCE."""
    lowered = {name.lower(): value for name, value in received.items()}
    try:
        msg_id = lowered[ID_HEADER]
        stamp = lowered[TIMESTAMP_HEADER]
        sent = lowered[SIGNATURE_HEADER]
        timestamp = int(stamp)
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed headers") from exc
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = signature(secret, msg_id, stamp, body)
    for candidate in sent.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate, expected):
            return
    raise InvalidSignature("no matching signature")
