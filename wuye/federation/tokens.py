"""Access tokens: JWTs in the profile of RFC 9068, issued and verified here.

Every issuance is recorded as a row of ``oauth_tokens`` keyed by the token's
``jti``, so a token can be revoked before it expires; refresh tokens are opaque
random strings kept only as digests. :class:`TokenVerifier` is the platform's
bearer-token check (``app.state.token_verifier``): a signature check against a
cached public key, the claims, then one indexed query for the tenant's status and
the token's revocation together. API routes make that query in their own
transaction (``wuye.platform.deps.unit_of_work``), on every request: revocation
and suspension take effect on the very next request, with no cache to expire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, select, text, update
from sqlalchemy.orm import Session

from wuye.federation import keys
from wuye.federation.models import (
    OAuthToken,
    Role,
    SigningKey,
    Tenant,
    TenantKind,
    TenantStatus,
    as_utc,
)
from wuye.federation.scopes import ROLE_SCOPES
from wuye.platform.db import Database, DriverPlan, Scope, make_engine, utcnow
from wuye.platform.problems import Problem
from wuye.platform.security import Principal
from wuye.platform.settings import Settings

#: RFC 9068 section 2.1: 'Access tokens MUST include "application/at+jwt" media type
#: in the "typ" header' - the short form ``at+jwt`` is the RECOMMENDED spelling.
TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type
#: Clock skew tolerated on ``exp`` and ``iat``, in seconds.
LEEWAY_SECONDS = 30


def issuer(settings: Settings) -> str:
    """The authorization server's issuer identifier (RFC 8414 section 2)."""
    return settings.public_url.rstrip("/")


def audience(settings: Settings) -> str:
    """The resource the tokens are for: the platform's API."""
    return issuer(settings) + "/api"


def digest(secret: str) -> str:
    """How refresh tokens and authorization codes are stored: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """What the token endpoint hands out, and the row that records it."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None
    record: OAuthToken

    def response(self) -> dict[str, Any]:
        """The RFC 6749 section 5.1 token response."""
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


def _allowed(role: Role | str | None, scopes: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(scopes))
    if role is None:
        return wanted
    allowed = ROLE_SCOPES[Role(role)]
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise ValueError(f"role {role} may not hold scope {' '.join(refused)}")
    return wanted


def mint(
    session: Session,
    *,
    settings: Settings,
    tenant_id: str,
    subject: str,
    client_id: str,
    scopes: Iterable[str],
    role: Role | str | None = None,
    host: bool = False,
    user_id: str | None = None,
    family_id: str | None = None,
    with_refresh_token: bool = False,
    ttl_seconds: int | None = None,
) -> IssuedToken:
    """Sign an access token (and optionally a refresh token) and record the issuance.

    ``scopes`` must all be allowed to ``role`` (a client or user only ever gets scopes
    its role allows); ``host`` must agree with the tenant's kind.
    """
    granted = _allowed(role, scopes)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise ValueError(f"no tenant {tenant_id}")
    if host and tenant.kind is not TenantKind.HOST:
        raise ValueError(f"tenant {tenant_id} is not the host firm")
    now = utcnow()
    ttl = ttl_seconds if ttl_seconds is not None else settings.token_ttl_seconds
    jti = uuid.uuid4().hex
    kid, alg, key = keys.active_key(session, settings=settings)
    scope = " ".join(granted)
    # RFC 9068 section 2.2: iss, exp, aud, sub, client_id, iat and jti are REQUIRED.
    claims: dict[str, Any] = {
        "iss": issuer(settings),
        "aud": audience(settings),
        "sub": subject,
        "client_id": client_id,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl,
        "jti": jti,
        "scope": scope,
        "tenant_id": tenant_id,
    }
    if role is not None:
        claims["role"] = str(Role(role))
    if host:
        claims["host"] = True
    token = keys.algorithm(alg).sign({"alg": alg, "typ": TOKEN_TYPE, "kid": kid}, claims, key)
    refresh = secrets.token_urlsafe(32) if with_refresh_token else None
    record = OAuthToken(
        jti=jti,
        family_id=family_id or uuid.uuid4().hex,
        tenant_id=tenant_id,
        client_id=client_id,
        user_id=user_id,
        subject=subject,
        role=str(Role(role)) if role is not None else None,
        scope=scope,
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl),
        refresh_token_hash=digest(refresh) if refresh else None,
        refresh_expires_at=(
            now + timedelta(seconds=settings.refresh_ttl_seconds) if refresh else None
        ),
    )
    session.add(record)
    session.flush()
    return IssuedToken(token, ttl, scope, refresh, record)


def issue_access_token(
    *,
    settings: Settings,
    session: Session | None = None,
    database: Database | None = None,
    tenant_id: str,
    subject: str,
    client_id: str,
    scopes: Iterable[str],
    role: Role | str | None = None,
    host: bool = False,
    user_id: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """Mint a signed, recorded access token; the factory tests and the AS share.

    Pass either an open ``session`` (host scope; the caller commits) or a ``database``
    (a transaction of its own is committed here). ``role`` bounds ``scopes``
    (``ValueError`` if one is not allowed); ``host=True`` requires the host tenant.
    """
    if (session is None) == (database is None):
        raise TypeError("pass exactly one of session= or database=")
    kwargs: dict[str, Any] = dict(
        settings=settings,
        tenant_id=tenant_id,
        subject=subject,
        client_id=client_id,
        scopes=scopes,
        role=role,
        host=host,
        user_id=user_id,
        ttl_seconds=ttl_seconds,
    )
    if session is not None:
        return mint(session, **kwargs).access_token
    assert database is not None
    with database.transaction(Scope.for_host()) as own:
        return mint(own, **kwargs).access_token


def revoke_family(session: Session, family_id: str) -> int:
    """Revoke every access and refresh token of one authorization grant."""
    result = session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_tenant(session: Session, tenant_id: str) -> int:
    """Revoke every token of a tenant (suspension)."""
    result = session.execute(
        update(OAuthToken)
        .where(OAuthToken.tenant_id == tenant_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


#: Session-level on the verifier's own autocommit connections, set before every read.
_SET_TENANT = text("SELECT set_config('wuye.tenant_id', :tenant, false)")
#: Verified signatures remembered per token string (a client reuses its token for its
#: whole lifetime); claims are still checked for expiry, and the database for
#: revocation, on every call.
_VERIFIED_CACHE_SIZE = 4096


_verifier_engines: weakref.WeakKeyDictionary[Database, Engine] = weakref.WeakKeyDictionary()


def _verifier_engine(database: Database) -> Engine:
    """One small autocommit pool per database for the verifier, disposed with it."""
    engine = _verifier_engines.get(database)
    if engine is None:
        engine = make_engine(
            database.url,
            pool_pre_ping=False,
            pool_size=4,
            max_overflow=8,
            isolation_level="AUTOCOMMIT",
        )
        _verifier_engines[database] = engine
        weakref.finalize(database, engine.dispose)
    return engine


class InvalidToken(Exception):
    """The bearer token is not one this platform accepts now; the message says why."""


class TokenVerifier:
    """``app.state.token_verifier``: a bearer access token to a :class:`Principal`.

    Checks, in order of cost: the JWS signature with a cached public key (fetched
    from the database once per ``kid``), ``typ``, ``iss``, ``aud`` and ``exp``
    (RFC 9068 section 4), then one indexed query reading the tenant's status,
    kind and ``tokens_valid_after`` together with the token's revocation.
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.issuer = issuer(settings)
        self.audience = audience(settings)
        self._postgres = database.engine.dialect.name == "postgresql"
        # The hot path reads through an engine of its own on PostgreSQL: autocommit (no
        # BEGIN) and no pre-ping, so one check costs two statements and nothing else.
        # Its own pool, because it sets ``wuye.tenant_id`` per connection, not per
        # transaction: no other code ever gets one of these connections.
        self._engine = _verifier_engine(database) if self._postgres else database.engine
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._plans: dict[str, DriverPlan] = {}
        self._verified_lock = threading.Lock()
        self._state = (
            select(
                Tenant.status,
                Tenant.kind,
                Tenant.tokens_valid_after,
                OAuthToken.revoked_at,
                OAuthToken.issued_at,
            )
            .select_from(Tenant)
            .join(
                OAuthToken,
                and_(OAuthToken.tenant_id == Tenant.id, OAuthToken.jti == bindparam("jti")),
                isouter=True,
            )
            .where(Tenant.id == bindparam("tenant_id"))
        )

    # -- the signature and the claims ------------------------------------------------

    def _key_for(self, kid: str) -> tuple[str, Any]:
        cached = keys.cached_public(kid)
        if cached is not None:
            return cached
        with self.database.engine.connect() as conn:
            row = conn.execute(
                select(SigningKey.alg, SigningKey.public_jwk).where(SigningKey.kid == kid)
            ).one_or_none()
        if row is None:
            raise InvalidToken("unknown signing key")
        return keys.remember_public(kid, row.alg, row.public_jwk)

    def decode(self, token: str, *, check_expiry: bool = True) -> dict[str, Any]:
        """The verified claims of ``token``; raises :class:`InvalidToken`."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            with self._verified_lock:
                self._verified[token] = claims
                if len(self._verified) > _VERIFIED_CACHE_SIZE:
                    self._verified.popitem(last=False)
        # "The current time MUST be before the time represented by the exp claim."
        if check_expiry and claims["exp"] + LEEWAY_SECONDS <= datetime.now(UTC).timestamp():
            raise InvalidToken("expired")
        return claims

    def _verify_signature(self, token: str) -> dict[str, Any]:
        try:
            header_part = token.split(".", 1)[0]
            header = json.loads(
                base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4))
            )
        except (ValueError, TypeError) as exc:
            raise InvalidToken("malformed token") from exc
        if not isinstance(header, dict):
            raise InvalidToken("malformed token")
        # RFC 9068 section 4: "Resource servers receiving a JWT access token MUST
        # validate it ... verify that the typ header value is at+jwt".
        if header.get("typ") not in (TOKEN_TYPE, "application/" + TOKEN_TYPE):
            raise InvalidToken("not a JWT access token")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("no key id")
        alg, key = self._key_for(kid)
        # RFC 9068 section 4: "the resource server MUST validate the signature of all
        # incoming JWT access tokens ... using the algorithm specified in the JWT alg" -
        # and only the algorithm its key was made for (RFC 8725 section 3.1).
        if header.get("alg") != alg:
            raise InvalidToken("algorithm does not match the key")
        try:
            claims = keys.algorithm(alg).verify(token, key)
        except ValueError as exc:
            raise InvalidToken("bad signature") from exc
        # "The issuer identifier ... MUST exactly match the value of the iss claim."
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        # "The resource server MUST validate that the aud claim contains a resource
        # indicator value corresponding to an identifier the resource server expects."
        aud = claims.get("aud")
        if aud != self.audience and not (isinstance(aud, list) and self.audience in aud):
            raise InvalidToken("wrong audience")
        if not isinstance(claims.get("exp"), int | float):
            raise InvalidToken("no expiry")
        for name in ("jti", "tenant_id", "sub"):
            if not isinstance(claims.get(name), str):
                raise InvalidToken(f"no {name}")
        return claims

    # -- the platform's check --------------------------------------------------------

    def principal(self, token: str) -> Principal:
        """The caller behind ``token``, or :class:`InvalidToken`: the claims, then the
        token's and its tenant's state read through the verifier's own connections."""
        claims = self.decode(token)
        with self._engine.connect() as conn:
            if self._postgres:
                # Row-level security (wuye.platform.rls) covers oauth_tokens: read it as
                # the token's own tenant, the narrowest scope that answers the question.
                conn.execute(_SET_TENANT, {"tenant": claims["tenant_id"]})
            return self.confirm(conn, claims)

    def confirm(self, conn: Connection, claims: dict[str, Any]) -> Principal:
        """The caller behind verified ``claims`` (from :meth:`decode`), after one indexed
        read of the token's revocation and its tenant's status on ``conn``.

        ``conn`` may be the connection of the request's own transaction (see
        ``wuye.platform.deps.unit_of_work``): the state is read exactly, in the same
        snapshot the use case then works in, at the cost of one small query. On
        PostgreSQL that transaction has already set ``wuye.tenant_id`` to the token's
        tenant, which is all row-level security needs to answer.
        """
        row = self._read_state(conn, jti=claims["jti"], tenant_id=claims["tenant_id"])
        if row is None:
            raise InvalidToken("unknown tenant")
        status, kind, valid_after, revoked_at, issued_at = row
        if issued_at is None:
            raise InvalidToken("unknown token")
        if TenantStatus(status) is not TenantStatus.ACTIVE:
            raise InvalidToken("tenant is not active")
        if revoked_at is not None:
            raise InvalidToken("revoked")
        if valid_after is not None and as_utc(issued_at) <= as_utc(valid_after):
            raise InvalidToken("issued before the tenant's tokens were revoked")
        return Principal(
            tenant_id=claims["tenant_id"],
            subject=claims["sub"],
            client_id=claims.get("client_id"),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            role=claims.get("role"),
            host=bool(claims.get("host")) and TenantKind(kind) is TenantKind.HOST,
            sandbox=TenantKind(kind) is TenantKind.SANDBOX,
            token_id=claims["jti"],
        )

    def _read_state(self, conn: Connection, *, jti: str, tenant_id: str) -> tuple[Any, ...] | None:
        """The state row of one token, read on ``conn``'s driver connection directly.

        The statement is compiled once per dialect and its columns converted with the
        column types' own result processors, so the row is what ``conn.execute`` would
        return - at a fraction of the cost of a full SQLAlchemy execution, which
        matters on a check every request makes.
        """
        plan = self._plans.get(conn.dialect.name)
        if plan is None:
            plan = self._plans[conn.dialect.name] = DriverPlan(self._state, conn.dialect)
        rows = plan.rows(conn, {"jti": jti, "tenant_id": tenant_id})
        return rows[0] if rows else None

    def claims(self, token: str) -> dict[str, Any]:
        """:meth:`decode` with failures as the 401 problem :meth:`__call__` raises."""
        try:
            return self.decode(token)
        except InvalidToken as exc:
            raise invalid_token(exc) from exc

    def confirmed(self, conn: Connection, claims: dict[str, Any]) -> Principal:
        """:meth:`confirm` with failures as the 401 problem :meth:`__call__` raises."""
        try:
            return self.confirm(conn, claims)
        except InvalidToken as exc:
            raise invalid_token(exc) from exc

    def __call__(self, token: str) -> Principal:
        try:
            return self.principal(token)
        except InvalidToken as exc:
            raise invalid_token(exc) from exc


def invalid_token(exc: InvalidToken) -> Problem:
    """RFC 6750 section 3.1: invalid_token - "The access token provided is expired,
    revoked, malformed, or invalid for other reasons."."""
    return Problem(
        "unauthorized",
        f"invalid access token: {exc}",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
