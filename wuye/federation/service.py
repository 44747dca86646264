"""Tenancy use cases as plain functions over a session: onboarding (入驻), suspension,
users, OAuth clients and sign-in.

Each function takes the session first and everything else by keyword, does no HTTP,
and leaves committing to the caller's one transaction per use case. Federation's
tables are managed across tenants, so the session must have the host scope
(``database.transaction(Scope.for_host())``). Errors are :class:`Problem`\\ s.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuye.federation import credit_code as credit
from wuye.federation import tokens
from wuye.federation.models import (
    Application,
    ApplicationIn,
    ApplicationStatus,
    OAuthClient,
    OnboardResult,
    Role,
    Tenant,
    TenantKind,
    TenantStatus,
    User,
)
from wuye.federation.passwords import (
    clear_failures,
    hash_password,
    locked_for,
    record_failure,
    verify_password,
)
from wuye.federation.scopes import ROLE_SCOPES, SCOPES
from wuye.federation.sealing import seal
from wuye.platform.db import Database, Scope, new_id, utcnow
from wuye.platform.pii import mask_phone
from wuye.platform.problems import Conflict, NotFound, Problem
from wuye.platform.settings import Settings, get_settings

#: Grant types a client may hold. No implicit, no password: RFC 9700 section 2.1.2
#: "clients SHOULD NOT use the implicit grant" and section 2.4 "The resource owner
#: password credentials grant MUST NOT be used".
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
DEFAULT_AUTH_METHOD = "client_secret_basic"  # noqa: S105 - a method name, not a secret
#: The shared tenant that clients registered with the platform's registration token join.
SANDBOX_TENANT_NAME = "开发者沙箱 / Developer sandbox"


# -- tenants and onboarding -------------------------------------------------------------


def _tenant_or_404(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant", tenant_id)
    return tenant


def host_tenant(session: Session) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.kind == TenantKind.HOST)).first()


def ensure_host(
    session: Session,
    *,
    name: str,
    credit_code: str,
    admin_username: str,
    admin_password: str,
) -> Tenant:
    """The host firm (平台运营企业) and its first administrator; idempotent.

    An existing host keeps its name; an existing administrator keeps its password.
    """
    code = _valid_credit_code(credit_code)
    tenant = host_tenant(session)
    if tenant is None:
        if session.scalars(select(Tenant).where(Tenant.credit_code == code)).first():
            raise Conflict(f"credit_code {code} already belongs to a tenant", field="credit_code")
        tenant = Tenant(name=name, credit_code=code, kind=TenantKind.HOST)
        tenant.status = TenantStatus.ACTIVE
        session.add(tenant)
        session.flush()
    if session.scalars(select(User).where(User.username == admin_username)).first() is None:
        create_user(
            session,
            tenant_id=tenant.id,
            username=admin_username,
            password=admin_password,
            role=Role.HOST_ADMIN,
            display_name="平台管理员 / Platform administrator",
        )
    return tenant


def _valid_credit_code(code: str) -> str:
    try:
        return credit.validate(code)
    except credit.InvalidCreditCode as exc:
        raise Problem("validation-error", f"credit_code: {exc}", field="credit_code") from exc


def _digits(phone: str) -> str:
    """A contact phone as written (+86 138-1234-5678) reduced to its digits."""
    return "".join(ch for ch in phone if ch.isdigit())


def apply(
    session: Session, *, application_in: ApplicationIn, settings: Settings | None = None
) -> Application:
    """Record a firm's application. A firm already on the platform, or one with an
    application under review, gets a conflict."""
    settings = settings or get_settings()
    code = _valid_credit_code(application_in.credit_code)
    if session.scalars(select(Tenant.id).where(Tenant.credit_code == code)).first():
        raise Conflict(f"credit_code {code} already belongs to a tenant", field="credit_code")
    pending = select(Application.id).where(
        Application.credit_code == code, Application.status == ApplicationStatus.PENDING
    )
    if session.scalars(pending).first():
        raise Conflict(f"an application for {code} is already under review", field="credit_code")
    application = Application(
        id=new_id(),
        name=application_in.name,
        credit_code=code,
        contact_name=application_in.contact_name,
        contact_phone_masked=mask_phone(_digits(application_in.contact_phone or "")),
        estates=[e.model_dump() for e in application_in.estates],
    )
    if application_in.contact_phone:
        application.contact_phone_sealed = seal(
            settings.secret_bytes(),
            application_in.contact_phone.encode(),
            f"tenant_applications/{application.id}".encode(),
        )
    session.add(application)
    session.flush()
    return application


def get_application(session: Session, *, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("application", application_id)
    return application


def _pending(session: Session, application_id: str) -> Application:
    application = session.scalars(
        select(Application).where(Application.id == application_id).with_for_update()
    ).one_or_none()
    if application is None:
        raise NotFound("application", application_id)
    if application.status is not ApplicationStatus.PENDING:
        raise Conflict(f"application {application_id} is already {application.status}")
    return application


def approve(
    session: Session,
    *,
    application_id: str,
    reviewer: str,
    admin_username: str | None = None,
    admin_password: str | None = None,
) -> OnboardResult:
    """Approve an application: the tenant, its administrator and its first OAuth client,
    all in the caller's one transaction. The secrets are returned once and kept only
    as hashes. The administrator's name and password are generated unless given."""
    application = _pending(session, application_id)
    if session.scalars(
        select(Tenant.id).where(Tenant.credit_code == application.credit_code)
    ).first():
        raise Conflict(f"credit_code {application.credit_code} already belongs to a tenant")
    tenant = Tenant(name=application.name, credit_code=application.credit_code)
    tenant.kind = TenantKind.MEMBER
    tenant.status = TenantStatus.ACTIVE
    session.add(tenant)
    session.flush()
    admin_username = admin_username or f"admin-{application.credit_code.lower()}"
    admin_password = admin_password or secrets.token_urlsafe(12)
    create_user(
        session,
        tenant_id=tenant.id,
        username=admin_username,
        password=admin_password,
        role=Role.TENANT_ADMIN,
        display_name=f"{application.contact_name}",
    )
    client, secret = create_client(
        session,
        tenant_id=tenant.id,
        name=f"{application.name} 默认应用 / default client",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=sorted(ROLE_SCOPES[Role.TENANT_ADMIN]),
        role=Role.TENANT_ADMIN,
    )
    assert secret is not None
    _create_estates(session, tenant_id=tenant.id, estates=application.estates)
    application.status = ApplicationStatus.APPROVED
    application.reviewer = reviewer
    application.reviewed_at = utcnow()
    application.tenant_id = tenant.id
    return OnboardResult(
        tenant_id=tenant.id,
        application_id=application.id,
        client_id=client.client_id,
        client_secret=secret,
        admin_username=admin_username,
        admin_password=admin_password,
        estates=list(application.estates),
    )


def _create_estates(session: Session, *, tenant_id: str, estates: list[dict[str, Any]]) -> None:
    """The estates named in the application become the new tenant's first estates."""
    from wuye.platform.estates.models import Estate

    for number, estate in enumerate(estates, start=1):
        session.add(
            Estate(
                tenant_id=tenant_id,
                code=f"E{number:03d}",
                name=estate["name"],
                address=estate.get("address", ""),
            )
        )
    session.flush()


def onboard_approved(
    database: Database,
    *,
    name: str,
    credit_code: str,
    contact_name: str = "",
    contact_phone: str = "",
    estates: Iterable[dict[str, str]] = (),
    admin_username: str | None = None,
    admin_password: str | None = None,
    reviewer: str = "cli",
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Apply and approve in one transaction (the CLI and the demo seed): the same rules
    as the HTTP flow, so a bad credit code or a duplicate firm writes nothing."""
    application_in = ApplicationIn(
        name=name,
        credit_code=credit_code,
        contact_name=contact_name or name,
        contact_phone=contact_phone or None,
        estates=list(estates),
    )
    with database.transaction(Scope.for_host()) as session:
        application = apply(session, application_in=application_in, settings=settings)
        result = approve(
            session,
            application_id=application.id,
            reviewer=reviewer,
            admin_username=admin_username,
            admin_password=admin_password,
        )
    return result.model_dump()


def reject(session: Session, *, application_id: str, reviewer: str, reason: str) -> Application:
    """Reject an application; the firm may apply again."""
    application = _pending(session, application_id)
    application.status = ApplicationStatus.REJECTED
    application.reviewer = reviewer
    application.reviewed_at = utcnow()
    application.reject_reason = reason
    return application


def list_applications(
    session: Session, *, status: ApplicationStatus | None = None
) -> Sequence[Application]:
    stmt = select(Application).order_by(Application.created_at, Application.id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    return session.scalars(stmt).all()


def list_tenants(session: Session) -> Sequence[Tenant]:
    return session.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.id)).all()


def suspend_tenant(session: Session, *, tenant_id: str) -> Tenant:
    """Suspend a member firm: it can no longer sign in, and every token it holds is void
    at once (``tokens_valid_after`` for access tokens, revocation for refresh tokens)."""
    tenant = _tenant_or_404(session, tenant_id)
    if tenant.kind is TenantKind.HOST:
        raise Conflict("the host firm cannot be suspended")
    tenant.status = TenantStatus.SUSPENDED
    tenant.tokens_valid_after = utcnow()
    tokens.revoke_tenant(session, tenant.id)
    session.flush()
    return tenant


def reactivate_tenant(session: Session, *, tenant_id: str) -> Tenant:
    """Lift a suspension. Tokens revoked by it stay revoked; new ones may be issued."""
    tenant = _tenant_or_404(session, tenant_id)
    if tenant.status is not TenantStatus.SUSPENDED:
        raise Conflict(f"tenant {tenant_id} is {tenant.status}, not suspended")
    tenant.status = TenantStatus.ACTIVE
    session.flush()
    return tenant


def sandbox_tenant(session: Session) -> Tenant:
    """The shared developer-sandbox tenant, created on first use."""
    tenant = session.scalars(
        select(Tenant).where(Tenant.kind == TenantKind.SANDBOX, Tenant.name == SANDBOX_TENANT_NAME)
    ).first()
    if tenant is None:
        # A code in the reserved "other" category (registration authority 9, category 9)
        # with the division 000000, completed with its GB 32100-2015 check character.
        tenant = Tenant(name=SANDBOX_TENANT_NAME, credit_code=credit.complete("99000000000000001"))
        tenant.kind = TenantKind.SANDBOX
        tenant.status = TenantStatus.ACTIVE
        session.add(tenant)
        session.flush()
    return tenant


# -- users ------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    tenant_id: str,
    username: str,
    password: str,
    role: Role | str,
    display_name: str = "",
) -> User:
    """A person who signs in; the password is hashed with Argon2id."""
    tenant = _tenant_or_404(session, tenant_id)
    role = Role(role)
    if role is Role.HOST_ADMIN and tenant.kind is not TenantKind.HOST:
        raise Problem("validation-error", "role: host_admin belongs to the host firm only")
    if len(password) < 8:
        raise Problem("validation-error", "password: at least 8 characters", field="password")
    if session.scalars(
        select(User.id).where(func.lower(User.username) == username.lower())
    ).first():
        raise Conflict(f"username {username} is taken", field="username")
    user = User(
        tenant_id=tenant.id,
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
    )
    session.add(user)
    session.flush()
    return user


class LoginRefused(Exception):
    """Sign-in refused: wrong credentials, or locked out for ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def authenticate(
    session: Session, *, username: str, password: str, settings: Settings | None = None
) -> User:
    """Check a username and password, counting failures per username in the database.

    After ``settings.login_max_failures`` failures the username is locked out for
    ``settings.login_lockout_seconds``; while locked, not even the right password
    is checked (no oracle). Users of a tenant that is not active cannot sign in.
    """
    settings = settings or get_settings()
    key = f"user:{username.strip().lower()}"
    locked = locked_for(session, key)
    if locked:
        raise LoginRefused("too many failed sign-ins", retry_after=locked)
    user = session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        failures = record_failure(
            session,
            key,
            max_failures=settings.login_max_failures,
            lockout_seconds=settings.login_lockout_seconds,
        )
        if failures >= settings.login_max_failures:
            raise LoginRefused(
                "too many failed sign-ins", retry_after=settings.login_lockout_seconds
            )
        raise LoginRefused("wrong username or password")
    tenant = session.get(Tenant, user.tenant_id)
    if tenant is None or tenant.status is not TenantStatus.ACTIVE:
        raise LoginRefused("the firm's account is not active")
    clear_failures(session, key)
    return user


# -- OAuth clients ----------------------------------------------------------------------


def check_redirect_uri(uri: str) -> str:
    """A redirect URI a client may register: absolute, no fragment (RFC 6749 section
    3.1.2: "The redirection endpoint URI MUST be an absolute URI" and "MUST NOT include
    a fragment component"), https - or http on a loopback address (RFC 8252 7.3)."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ValueError(f"redirect URI {uri} has a fragment")
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return uri
    raise ValueError(f"redirect URI {uri} must be https, or http on a loopback address")


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """Validated client settings, shared by the service and RFC 7591 registration."""

    grant_types: list[str]
    response_types: list[str]
    scope: str
    redirect_uris: list[str]
    token_endpoint_auth_method: str


def client_spec(
    *,
    role: Role,
    redirect_uris: Iterable[str],
    grant_types: Iterable[str],
    scopes: Iterable[str] | None,
    token_endpoint_auth_method: str = DEFAULT_AUTH_METHOD,
) -> ClientSpec:
    """Check what a client asks for; raises ``ValueError`` naming the offending field."""
    grants = list(dict.fromkeys(grant_types))
    bad = [g for g in grants if g not in GRANT_TYPES]
    if bad:
        raise ValueError(f"grant_types: {' '.join(bad)} not supported")
    if not grants:
        raise ValueError("grant_types: at least one grant type")
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise ValueError(f"token_endpoint_auth_method: {token_endpoint_auth_method} not supported")
    if token_endpoint_auth_method == "none" and "client_credentials" in grants:  # noqa: S105
        raise ValueError("grant_types: a public client cannot use client_credentials")
    try:
        uris = [check_redirect_uri(u) for u in redirect_uris]
    except ValueError as exc:
        raise ValueError(f"redirect_uris: {exc}") from exc
    if "authorization_code" in grants and not uris:
        raise ValueError("redirect_uris: required for the authorization_code grant")
    allowed = ROLE_SCOPES[role]
    wanted = list(dict.fromkeys(scopes)) if scopes is not None else sorted(allowed)
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ValueError(f"scope: unknown scope {' '.join(unknown)}")
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise ValueError(f"scope: role {role} may not hold {' '.join(refused)}")
    return ClientSpec(
        grant_types=grants,
        response_types=["code"] if "authorization_code" in grants else [],
        scope=" ".join(wanted),
        redirect_uris=uris,
        token_endpoint_auth_method=token_endpoint_auth_method,
    )


def create_client(
    session: Session,
    *,
    tenant_id: str,
    name: str,
    redirect_uris: Iterable[str],
    grant_types: Iterable[str],
    scopes: Iterable[str] | None,
    role: Role | str = Role.TENANT_ADMIN,
    token_endpoint_auth_method: str = DEFAULT_AUTH_METHOD,
    metadata: dict[str, object] | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register an OAuth client for ``tenant_id``; returns it and its secret in plain
    text (``None`` for a public client), which is shown once and stored as a digest.

    ``client_id`` and ``client_secret`` are generated unless given (RFC 7591 generates
    them before it stores the client)."""
    tenant = _tenant_or_404(session, tenant_id)
    role = Role(role)
    if role is Role.HOST_ADMIN and tenant.kind is not TenantKind.HOST:
        raise Problem("validation-error", "role: host_admin belongs to the host firm only")
    try:
        spec = client_spec(
            role=role,
            redirect_uris=redirect_uris,
            grant_types=grant_types,
            scopes=scopes,
            token_endpoint_auth_method=token_endpoint_auth_method,
        )
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise Problem("validation-error", str(exc), field=field) from exc
    secret = None
    if spec.token_endpoint_auth_method != "none":  # noqa: S105 - a method name
        secret = client_secret or secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=client_id or secrets.token_urlsafe(18),
        client_secret_hash=tokens.digest(secret) if secret else None,
        tenant_id=tenant.id,
        name=name,
        role=role,
        redirect_uris=spec.redirect_uris,
        grant_types=spec.grant_types,
        response_types=spec.response_types,
        scope=spec.scope,
        token_endpoint_auth_method=spec.token_endpoint_auth_method,
        client_metadata=dict(metadata or {}),
    )
    session.add(client)
    session.flush()
    return client, secret
