"""Signing keys for JWT access tokens: creation, rotation, the JWK Set (RFC 7517).

Keys live in the database (``oauth_signing_keys``) so every worker signs with the
same active key and every verifier can fetch a key it has not seen yet; private
keys are sealed at rest (:mod:`wuye.federation.sealing`). Decoded keys are cached
in process by ``kid`` (a random identifier, so one cache serves any database).

RFC 7517 section 4.5: "When "kid" values are used within a JWK Set, different keys
within the JWK Set SHOULD use distinct "kid" values" - each key gets a fresh UUID.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import ECKey, KeyBase
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wuye.federation.models import SigningKey
from wuye.federation.sealing import open_sealed, seal
from wuye.platform.db import utcnow
from wuye.platform.settings import Settings

#: How long past its tokens' expiry a retired key stays in the JWKS (clock skew).
PUBLISH_LEEWAY_SECONDS = 120


@dataclass(frozen=True, slots=True)
class KeyAlgorithm:
    """A JWS algorithm (RFC 7518 section 3) and how to make a key for it."""

    alg: str

    def generate(self) -> KeyBase:
        if self.alg == "ES256":
            return ECKey.generate_key("P-256", private=True)
        raise ValueError(f"unsupported token signing algorithm {self.alg!r}")

    def import_key(self, data: dict[str, Any] | str) -> KeyBase:
        if self.alg == "ES256":
            return ECKey.import_key(data)
        raise ValueError(f"unsupported token signing algorithm {self.alg!r}")


_private: dict[str, KeyBase] = {}
_public: dict[str, tuple[str, KeyBase]] = {}
_lock = threading.Lock()


def _aad(kid: str) -> bytes:
    return f"oauth_signing_keys/{kid}".encode()


def create_key(session: Session, *, settings: Settings, active: bool = True) -> SigningKey:
    """A new key for ``settings.token_signing_alg``; sealed, stored and (by default) active."""
    algorithm = KeyAlgorithm(settings.token_signing_alg)
    key = algorithm.generate()
    kid = uuid.uuid4().hex
    public = {**key.as_dict(private=False), "kid": kid, "alg": algorithm.alg, "use": "sig"}
    private_pem = key.as_pem(private=True)
    row = SigningKey(
        kid=kid,
        alg=algorithm.alg,
        public_jwk=public,
        private_key_sealed=seal(settings.secret_bytes(), private_pem, _aad(kid)),
        active=active,
    )
    session.add(row)
    session.flush()
    return row


def rotate(session: Session, *, settings: Settings) -> SigningKey:
    """Make a new key active. Each retired key stays in the JWKS until the last access
    token it signed has expired, so resource servers can still verify those tokens."""
    now = utcnow()
    publish_until = now + timedelta(seconds=settings.token_ttl_seconds + PUBLISH_LEEWAY_SECONDS)
    for old in session.scalars(select(SigningKey).where(SigningKey.active.is_(True))):
        old.active = False
        old.retired_at = now
        old.publish_until = publish_until
    return create_key(session, settings=settings)


def active_key(session: Session, *, settings: Settings) -> tuple[str, str, KeyBase]:
    """``(kid, alg, private key)`` of the key that signs now; creates the first one."""
    row = session.scalars(
        select(SigningKey)
        .where(SigningKey.active.is_(True))
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        row = create_key(session, settings=settings)
    key = _private.get(row.kid)
    if key is None:
        pem = open_sealed(settings.secret_bytes(), row.private_key_sealed, _aad(row.kid))
        key = KeyAlgorithm(row.alg).import_key(pem.decode())
        with _lock:
            _private[row.kid] = key
    return row.kid, row.alg, key


def remember_public(kid: str, alg: str, jwk: dict[str, Any]) -> tuple[str, KeyBase]:
    """Cache and return the verification key of ``kid``."""
    entry = (alg, KeyAlgorithm(alg).import_key(jwk))
    with _lock:
        _public[kid] = entry
    return entry


def cached_public(kid: str) -> tuple[str, KeyBase] | None:
    return _public.get(kid)


def published(session: Session) -> list[SigningKey]:
    """Keys a verifier may meet: the active one and retired ones still within their tokens'
    lifetime."""
    now = utcnow()
    return list(
        session.scalars(
            select(SigningKey)
            .where(or_(SigningKey.active.is_(True), SigningKey.publish_until > now))
            .order_by(SigningKey.created_at.desc())
        )
    )


def jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The JWK Set document (RFC 7517 section 5): public parts only."""
    return {"keys": [dict(row.public_jwk) for row in published(session)]}
