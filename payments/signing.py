"""The signed-callback contract between the payment channels and the portal.

A callback is a JSON body POSTed with headers X-Timestamp (unix seconds),
X-Nonce (unique per message) and X-Signature, the hex HMAC-SHA256 of
"<timestamp>.<nonce>.<body>" under the shared secret."""

import hashlib
import hmac

TIMESTAMP_WINDOW_SECONDS = 300


def sign(*, secret: str, timestamp: int | str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}.{nonce}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(
    *, secret: str, timestamp: str, nonce: str, body: bytes, signature: str
) -> bool:
    expected = sign(secret=secret, timestamp=timestamp, nonce=nonce, body=body)
    # Constant-time comparison: timing must not reveal how much of a guess was right.
    return hmac.compare_digest(expected, signature or "")
