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
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wuye.federation.models import SigningKey
from wuye.federation.sealing import open_sealed, seal
from wuye.platform.db import utcnow
from wuye.platform.settings import Settings

#: How long past its tokens' expiry a retired key stays in the JWKS (clock skew).
PUBLISH_LEEWAY_SECONDS = 120


class SigningAlgorithm:
    """A JWS algorithm (RFC 7515) tokens can be signed with: how to make, load, sign
    and verify. One small subclass per algorithm, registered in :data:`ALGORITHMS`."""

    alg: str

    def generate(self) -> tuple[Any, dict[str, Any], bytes]:
        """A new key: the private key, its public JWK and its private PEM."""
        raise NotImplementedError

    def load_private(self, pem: bytes) -> Any:
        raise NotImplementedError

    def load_public(self, jwk: dict[str, Any]) -> Any:
        raise NotImplementedError

    def sign(self, header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
        raise NotImplementedError

    def verify(self, token: str, key: Any) -> dict[str, Any]:
        """The claims, once the signature checks out; raises ``ValueError`` otherwise."""
        raise NotImplementedError


class ES256(SigningAlgorithm):
    """ECDSA on P-256 with SHA-256 (RFC 7518 section 3.4), via joserfc: the default,
    understood by every JOSE library."""

    alg = "ES256"

    def generate(self) -> tuple[Any, dict[str, Any], bytes]:
        key = ECKey.generate_key("P-256", private=True)
        return key, dict(key.as_dict(private=False)), key.as_pem(private=True)

    def load_private(self, pem: bytes) -> Any:
        return ECKey.import_key(pem)

    def load_public(self, jwk: dict[str, Any]) -> Any:
        return ECKey.import_key(jwk)

    def sign(self, header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
        return jwt.encode(header, claims, key, algorithms=[self.alg])

    def verify(self, token: str, key: Any) -> dict[str, Any]:
        try:
            return dict(jwt.decode(token, key, algorithms=[self.alg]).claims)
        except (JoseError, ValueError) as exc:
            raise ValueError("bad signature") from exc


class SM2SM3(SigningAlgorithm):
    """SM2 signatures over SM3 (GB/T 32918.2) for deployments that must use 国密, via the
    JOSE profile of :mod:`wuye.crypto.jose` (JWK ``kty`` EC, ``crv`` SM2)."""

    alg = "SM2SM3"

    def _jwt(self) -> Any:
        from authlib.jose import JsonWebToken

        from wuye.crypto.jose import register_sm2_jose

        register_sm2_jose()
        return JsonWebToken([self.alg])

    def generate(self) -> tuple[Any, dict[str, Any], bytes]:
        from wuye.crypto import SM2PrivateKey
        from wuye.crypto.jose import sm2_jwk

        key = SM2PrivateKey.generate()
        return key, sm2_jwk(key.public_key), key.to_pem()

    def load_private(self, pem: bytes) -> Any:
        from wuye.crypto import SM2PrivateKey

        return SM2PrivateKey.from_pem(pem)

    def load_public(self, jwk: dict[str, Any]) -> Any:
        from wuye.crypto.jose import load_sm2_jwk

        return load_sm2_jwk({k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")})

    def sign(self, header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
        return self._jwt().encode(header, claims, key).decode("ascii")

    def verify(self, token: str, key: Any) -> dict[str, Any]:
        from authlib.jose.errors import JoseError as AuthlibJoseError

        try:
            return dict(self._jwt().decode(token, key))
        except (AuthlibJoseError, ValueError) as exc:
            raise ValueError("bad signature") from exc


ALGORITHMS: dict[str, SigningAlgorithm] = {a.alg: a for a in (ES256(), SM2SM3())}


def algorithm(alg: str) -> SigningAlgorithm:
    try:
        return ALGORITHMS[alg]
    except KeyError:
        raise ValueError(f"unsupported token signing algorithm {alg!r}") from None


_private: dict[str, Any] = {}
_public: dict[str, tuple[str, Any]] = {}
_lock = threading.Lock()


def _aad(kid: str) -> bytes:
    return f"oauth_signing_keys/{kid}".encode()


def create_key(session: Session, *, settings: Settings, active: bool = True) -> SigningKey:
    """A new key for ``settings.token_signing_alg``; sealed, stored and (by default) active."""
    signer = algorithm(settings.token_signing_alg)
    _key, public_jwk, private_pem = signer.generate()
    kid = uuid.uuid4().hex
    public = {**public_jwk, "kid": kid, "alg": signer.alg, "use": "sig"}
    row = SigningKey(
        kid=kid,
        alg=signer.alg,
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


def active_key(session: Session, *, settings: Settings) -> tuple[str, str, Any]:
    """``(kid, alg, private key)`` of the key that signs now; creates the first one
    (with ``settings.token_signing_alg``)."""
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
        key = algorithm(row.alg).load_private(pem)
        with _lock:
            _private[row.kid] = key
    return row.kid, row.alg, key


def remember_public(kid: str, alg: str, jwk: dict[str, Any]) -> tuple[str, Any]:
    """Cache and return the verification key of ``kid``."""
    entry = (alg, algorithm(alg).load_public(jwk))
    with _lock:
        _public[kid] = entry
    return entry


def cached_public(kid: str) -> tuple[str, Any] | None:
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
