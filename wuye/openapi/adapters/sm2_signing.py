"""SM2-signed HTTP requests, as government and utility platforms in China require them.

The canonical request is ``METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n hex(SM3(BODY))``;
the signature is SM2 (GB/T 32918.2, with the default user id of GM/T 0009) over it,
DER-encoded and sent in hex with the key id, timestamp and nonce as headers. A
verifier refuses a timestamp more than :data:`MAX_SKEW_SECONDS` away.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Generator, Mapping

import httpx

from wuye import crypto

HEADERS = ("X-Sign-Key", "X-Timestamp", "X-Nonce", "X-Signature")
MAX_SKEW_SECONDS = 300


def canonical(method: str, path_and_query: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = crypto.sm3_hash(body).hex()
    return "\n".join((method.upper(), path_and_query, timestamp, nonce, digest)).encode()


def _target(url: httpx.URL) -> str:
    return url.raw_path.decode("ascii")  # path and query, as sent


class SM2RequestSigner(httpx.Auth):
    """httpx authentication that signs each request with an SM2 private key."""

    requires_request_body = True

    def __init__(self, key_id: str, private_key: crypto.SM2PrivateKey) -> None:
        self.key_id = key_id
        self.private_key = private_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        message = canonical(request.method, _target(request.url), timestamp, nonce, request.content)
        request.headers["X-Sign-Key"] = self.key_id
        request.headers["X-Timestamp"] = timestamp
        request.headers["X-Nonce"] = nonce
        request.headers["X-Signature"] = self.private_key.sign(message).hex()
        yield request


def verify(
    *,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    public_keys: Mapping[str, crypto.SM2PublicKey],
    now: float | None = None,
) -> str:
    """The key id of a valid signed request; ``ValueError`` naming what is wrong."""
    key_id, timestamp, nonce, signature = (headers.get(h, "") for h in HEADERS)
    key = public_keys.get(key_id)
    if key is None:
        raise ValueError("unknown signing key")
    try:
        skew = abs((now or time.time()) - int(timestamp))
    except ValueError:
        raise ValueError("bad timestamp") from None
    if skew > MAX_SKEW_SECONDS:
        raise ValueError("timestamp too far from now")
    try:
        key.verify(
            bytes.fromhex(signature), canonical(method, path_and_query, timestamp, nonce, body)
        )
    except (ValueError, crypto.CryptoError):
        raise ValueError("bad signature") from None
    return key_id
