"""Tenancy tables: tenants (the host firm and its member firms), their users, their
applications to join, and the OAuth 2 authorization server's clients, codes, tokens and keys."""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import UTC, datetime

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, Timestamped, new_id, utcnow


class TenantKind(enum.StrEnum):
    HOST = "host"  # the large firm that runs the platform
    MEMBER = "member"  # a small property firm onboarded onto it
    SANDBOX = "sandbox"  # a developer's sandbox


class TenantStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Role(enum.StrEnum):
    HOST_ADMIN = "host_admin"
    TENANT_ADMIN = "tenant_admin"
    TENANT_STAFF = "tenant_staff"
    OWNER = "owner"
    REGULATOR = "regulator"
    DEVELOPER = "developer"


class Tenant(Base, Timestamped):
    """A property firm on the platform (物业服务企业)."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: 统一社会信用代码 (GB 32100-2015), 18 characters.
    credit_code: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    kind: Mapped[TenantKind] = mapped_column(
        Enum(TenantKind, native_enum=False, length=16), default=TenantKind.MEMBER, nullable=False
    )
    status: Mapped[TenantStatus] = mapped_column(
        Enum(TenantStatus, native_enum=False, length=16),
        default=TenantStatus.PENDING,
        nullable=False,
    )
    #: Access tokens issued before this instant are void (suspension revokes all at once).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base, Timestamped):
    """A person who signs in: staff of a tenant, an owner, a regulator or a developer."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16), nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    #: For an owner's account (role ``owner``): the owner (业主) it signs in as. Owners
    #: sign in with their registered phone and a one-time code, never a password.
    owner_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("owners.id", ondelete="CASCADE"), index=True, unique=True
    )


class OwnerLoginChallenge(Base):
    """One one-time sign-in code sent to an owner's phone (see ``owner_login.py``).

    Only a keyed digest of the code is kept; the phone is kept as its blind index.
    The challenge is bound to the browser that asked for it (a digest of its CSRF
    cookie), expires, and allows a few attempts.
    """

    __tablename__ = "owner_login_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    phone_index: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    ip_hash: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Application(Base, Timestamped):
    """A small firm's application to join the platform (入驻申请), reviewed by the host."""

    __tablename__ = "tenant_applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    credit_code: Mapped[str] = mapped_column(String(18), index=True, nullable=False)
    contact_name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    #: The contact's phone number, sealed at rest (personal data, GB/T 35273).
    contact_phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_phone_masked: Mapped[str] = mapped_column(String(32), default="", nullable=False)
    #: The estates the firm manages: ``[{"name": ..., "address": ...}]``.
    estates: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=16),
        default=ApplicationStatus.PENDING,
        nullable=False,
        index=True,
    )
    reviewer: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="SET NULL")
    )


class OAuthClient(Base, Timestamped, ClientMixin):
    """An OAuth 2 client (RFC 6749 section 2) registered to one tenant.

    The secret is stored as a SHA-256 digest: it is 256 bits of randomness, so a
    slow password hash adds nothing, and Authlib only ever asks us to compare it.
    """

    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The role whose scopes bound this client's (client credentials act as this role).
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16), nullable=False)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    response_types: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    scope: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), default="client_secret_basic", nullable=False
    )
    #: RFC 7591 metadata as registered (client_uri, contacts, ...), for display.
    client_metadata: Mapped[dict[str, object]] = mapped_column(JSON, default=dict, nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)

    # -- authlib.oauth2.rfc6749.ClientMixin -------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous default: with several registered URIs the client must say.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.scope.split()
        if not scope:
            return " ".join(allowed)
        wanted = scope.split()
        return " ".join(s for s in allowed if s in wanted)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """RFC 9700 section 2.1: "authorization servers MUST utilize exact string
        matching" of redirect URIs (no prefixes, no wildcards)."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_hash:
            return False
        digest = hashlib.sha256(client_secret.encode()).hexdigest()
        return hmac.compare_digest(digest, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == self.token_endpoint_auth_method
        # introspection and revocation: any secret-based method a confidential client has
        if self.token_endpoint_auth_method == "none":  # noqa: S105 - a method name
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class AuthorizationCode(Base, Timestamped, AuthorizationCodeMixin):
    """An authorization code (RFC 6749 section 4.1.2), stored as a digest, single use."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000), default="", nullable=False)
    scope: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    #: The token family the code starts; a replayed code revokes it (RFC 6749 4.1.2).
    family_id: Mapped[str] = mapped_column(String(32), default=new_id, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class OAuthToken(Base, TokenMixin):
    """One issuance at the token endpoint: a JWT access token (by its ``jti``) and,
    optionally, the refresh token issued with it (stored as a digest).

    Rows of one authorization grant share a ``family_id``. Refresh tokens rotate:
    each use marks its row ``rotated_at`` and issues a new row in the same family;
    presenting a rotated refresh token again revokes the whole family (RFC 9700
    section 4.14.2, refresh token reuse detection).
    """

    __tablename__ = "oauth_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    client_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str | None] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when the refresh token was exchanged for a new one.
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when the access token (and its refresh token) may no longer be used.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # -- authlib.oauth2.rfc6749.TokenMixin --------------------------------------------

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((as_utc(self.expires_at) - as_utc(self.issued_at)).total_seconds())

    def is_expired(self) -> bool:
        return as_utc(self.expires_at) <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_user(self) -> str | None:
        return self.user_id

    def get_client(self) -> ClientMixin:  # pragma: no cover - Authlib never calls it here
        raise NotImplementedError("look the client up by client_id")

    def refresh_token_usable(self) -> bool:
        """Not revoked, not rotated, not expired."""
        if self.revoked_at is not None or self.rotated_at is not None:
            return False
        return self.refresh_expires_at is not None and as_utc(self.refresh_expires_at) > utcnow()


class SigningKey(Base, Timestamped):
    """A key that signs JWT access tokens (RFC 9068), published in the JWKS (RFC 7517).

    The private key is sealed at rest under a key-encryption key derived from the
    platform secret. Rotation makes a new key active; a retired key keeps being
    published until every token it signed has expired (``publish_until``).
    """

    __tablename__ = "oauth_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16), nullable=False)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    active: Mapped[bool] = mapped_column(default=False, nullable=False, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    publish_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed sign-in counters, kept in the database so every worker sees them."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- API schemas ---------------------------------------------------------------------


class EstateIn(BaseModel):
    """An estate (小区) the applying firm manages."""

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=300)


class ApplicationIn(BaseModel):
    """What a firm submits to join the platform."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="企业名称 / firm name")
    credit_code: str = Field(description="统一社会信用代码 (GB 32100-2015), 18 characters")
    contact_name: str = Field(min_length=1, max_length=100, description="联系人 / contact")
    contact_phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9][0-9 \-]{4,19}$", description="联系电话 / contact phone"
    )
    estates: list[EstateIn] = Field(default_factory=list, max_length=500)

    @field_validator("credit_code")
    @classmethod
    def _check_credit_code(cls, value: str) -> str:
        from wuye.federation.credit_code import validate

        return validate(value)  # InvalidCreditCode is a ValueError: a 422 naming the field


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    credit_code: str
    contact_name: str
    contact_phone_masked: str
    estates: list[dict[str, str]]
    status: ApplicationStatus
    created_at: datetime
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    reject_reason: str | None = None
    tenant_id: str | None = None


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="驳回理由 / reason")


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    credit_code: str
    kind: TenantKind
    status: TenantStatus
    created_at: datetime
    tokens_valid_after: datetime | None = None


class OnboardResult(BaseModel):
    """What approval hands back once: the tenant, its first client and admin credentials."""

    tenant_id: str
    application_id: str
    client_id: str
    client_secret: str
    admin_username: str
    admin_password: str
    estates: list[dict[str, str]] = Field(default_factory=list)
