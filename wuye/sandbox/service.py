"""Sandbox use cases as plain functions: developer accounts, apps with their own sandbox
tenant and keys, reset, promotion to production credentials after the host's review,
and the request log and usage a developer browses.

Functions taking a ``session`` leave committing to the caller (host scope: these
tables are managed across tenants). Creating and resetting a sandbox span several
transactions (the tenant, then its synthetic data, then its telemetry) and take
the ``database``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuye.adapters.devices.keys import DeviceKeyring
from wuye.federation import service as federation
from wuye.federation import tokens
from wuye.federation.credit_code import complete
from wuye.federation.models import Role, Tenant, TenantKind, TenantStatus
from wuye.federation.passwords import (
    clear_failures,
    hash_password,
    locked_for,
    record_failure,
    verify_password,
)
from wuye.federation.sealing import open_sealed, seal
from wuye.platform.db import Database, Scope, utcnow
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.problems import Conflict, NotFound, Problem
from wuye.platform.settings import Settings
from wuye.sandbox import seed as sandbox_seed
from wuye.sandbox.models import APP_CATEGORIES, Developer, Promotion, RequestLog, SandboxApp
from wuye.sandbox.rfc7591 import Registrar

if TYPE_CHECKING:
    from wuye.sandbox.chain import SandboxLedgers

#: Lifetime of the initial access token for RFC 7591 registration shown in the portal.
REGISTRATION_TOKEN_TTL = 7 * 24 * 3600
_AAD = b"wuye/sandbox/production-secret"


# --- developers ------------------------------------------------------------------------


def sign_up(
    *, session: Session, username: str, password: str, display_name: str = "", email: str = ""
) -> Developer:
    username = username.strip()
    if not (3 <= len(username) <= 100) or not username.replace("-", "").replace("_", "").isalnum():
        raise Problem(
            "validation-error", "username: 3-100 letters, digits, - or _", field="username"
        )
    if len(password) < 8:
        raise Problem("validation-error", "password: at least 8 characters", field="password")
    if session.scalars(
        select(Developer.id).where(func.lower(Developer.username) == username.lower())
    ).first():
        raise Conflict(f"username {username} is taken", field="username")
    developer = Developer(
        username=username,
        display_name=display_name.strip(),
        email=email.strip(),
        password_hash=hash_password(password),
    )
    session.add(developer)
    session.flush()
    return developer


def sign_in(*, session: Session, username: str, password: str, settings: Settings) -> Developer:
    """Check a developer's password; failures are counted per username in the database."""
    key = f"developer:{username.strip().lower()}"
    locked = locked_for(session, key)
    if locked:
        raise federation.LoginRefused("too many failed sign-ins", retry_after=locked)
    developer = session.scalars(
        select(Developer).where(func.lower(Developer.username) == username.strip().lower())
    ).first()
    if not verify_password(developer.password_hash if developer else None, password):
        record_failure(
            session,
            key,
            max_failures=settings.login_max_failures,
            lockout_seconds=settings.login_lockout_seconds,
        )
        raise federation.LoginRefused("wrong username or password")
    clear_failures(session, key)
    assert developer is not None
    return developer


def get_developer(*, session: Session, developer_id: str) -> Developer:
    developer = session.get(Developer, developer_id)
    if developer is None:
        raise NotFound("developer", developer_id)
    return developer


# --- apps ------------------------------------------------------------------------------


def get_app(*, session: Session, app_id: str, developer_id: str | None = None) -> SandboxApp:
    """An app; with ``developer_id``, only that developer's (another's is a 404)."""
    app = session.get(SandboxApp, app_id)
    if app is None or (developer_id is not None and app.developer_id != developer_id):
        raise NotFound("app", app_id)
    return app


def apps_of(*, session: Session, developer_id: str) -> Sequence[SandboxApp]:
    return session.scalars(
        select(SandboxApp)
        .where(SandboxApp.developer_id == developer_id)
        .order_by(SandboxApp.created_at, SandboxApp.id)
    ).all()


def app_for_tenant(*, session: Session, tenant_id: str) -> SandboxApp | None:
    return session.scalars(select(SandboxApp).where(SandboxApp.tenant_id == tenant_id)).first()


def _sandbox_credit_code() -> str:
    """A unique code in the reserved "other" category (9, 9) of division 000000."""
    return complete("99000000" + f"{secrets.randbelow(10**9):09d}")


def create_app(
    *,
    database: Database,
    settings: Settings,
    cipher: PersonalDataCipher,
    keyring: DeviceKeyring,
    register: Registrar,
    developer_id: str,
    name: str,
    category: str = "other",
    chain: SandboxLedgers | None = None,
) -> tuple[SandboxApp, str]:
    """A new app: a sandbox tenant of its own, its keys at once, and the synthetic estate.

    The keys are a confidential client for the client credentials grant, registered
    with ``register`` (RFC 7591, see :mod:`wuye.sandbox.rfc7591`) under an initial
    access token of the new tenant, so the developer role bounds its scopes. With
    ``chain`` (:func:`wuye.sandbox.chain.ledgers`) the estate also gets its fund history
    and a vote in progress on the sandbox ledger. Returns the app and its client
    secret, shown once.
    """
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Problem("validation-error", "name: 1-200 characters", field="name")
    if category not in APP_CATEGORIES:
        raise Problem(
            "validation-error", f"category: one of {', '.join(APP_CATEGORIES)}", field="category"
        )
    with database.transaction(Scope.for_host()) as session:
        developer = get_developer(session=session, developer_id=developer_id)
        tenant = Tenant(
            name=f"沙箱 / sandbox: {name} ({developer.username})",
            credit_code=_sandbox_credit_code(),
        )
        tenant.kind = TenantKind.SANDBOX
        tenant.status = TenantStatus.ACTIVE
        session.add(tenant)
        session.flush()
        tenant_id, email = tenant.id, developer.email
        initial = _initial_access_token(
            session=session,
            settings=settings,
            tenant_id=tenant_id,
            developer_id=developer_id,
            ttl_seconds=300,
        )
    metadata: dict[str, Any] = {
        "client_name": f"{name} (sandbox)",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "software_id": "wuye-sandbox",
    }
    if email:
        metadata["contacts"] = [email]
    try:
        info = register(initial, metadata)
        with database.transaction(Scope.for_host()) as session:
            app = SandboxApp(
                developer_id=developer_id,
                name=name,
                category=category,
                tenant_id=tenant_id,
                client_id=info["client_id"],
                seed=secrets.randbelow(2**31),
            )
            session.add(app)
            session.flush()
        sandbox_seed.seed_sandbox(
            database, cipher=cipher, keyring=keyring, tenant_id=tenant_id, seed=app.seed
        )
        if chain is not None:
            from wuye.sandbox.chain import seed_on_ledger

            seed_on_ledger(database, chain=chain, tenant_id=tenant_id, seed=app.seed)
    except BaseException:
        with database.transaction(Scope.for_host()) as session:  # nothing half-made stays
            session.execute(sa_delete(Tenant).where(Tenant.id == tenant_id))
        raise
    return app, info["client_secret"]


def reset(
    *,
    database: Database,
    cipher: PersonalDataCipher,
    keyring: DeviceKeyring,
    tenant_id: str,
    chain: SandboxLedgers | None = None,
) -> dict[str, int]:
    """Put a sandbox back to its seed state: its data is deleted and seeded again from
    the app's seed (same people, units and work orders; fresh identifiers), and, with
    ``chain``, a fresh fund history and vote on the sandbox ledger (the chain keeps the
    old ones, under the old estate's reference: a ledger forgets nothing)."""
    with database.transaction(Scope.for_host()) as session:
        tenant = session.get(Tenant, tenant_id)
        app = app_for_tenant(session=session, tenant_id=tenant_id)
        if tenant is None or tenant.kind is not TenantKind.SANDBOX or app is None:
            raise Problem("forbidden", "only a sandbox can be reset / 仅沙箱可重置")
        app_seed = app.seed
    sandbox_seed.wipe(database, tenant_id=tenant_id)
    counts = sandbox_seed.seed_sandbox(
        database, cipher=cipher, keyring=keyring, tenant_id=tenant_id, seed=app_seed
    )
    if chain is not None:
        from wuye.sandbox.chain import seed_on_ledger

        counts |= seed_on_ledger(database, chain=chain, tenant_id=tenant_id, seed=app_seed)
    return counts


def registration_token(*, session: Session, settings: Settings, app: SandboxApp) -> str:
    """An initial access token (RFC 7591 section 3) for registering more clients in the
    app's sandbox tenant at ``/oauth/register``."""
    return _initial_access_token(
        session=session,
        settings=settings,
        tenant_id=app.tenant_id,
        developer_id=app.developer_id,
        ttl_seconds=REGISTRATION_TOKEN_TTL,
    )


def _initial_access_token(
    *, session: Session, settings: Settings, tenant_id: str, developer_id: str, ttl_seconds: int
) -> str:
    """A token with only the ``admin`` scope of a sandbox tenant: what the registration
    endpoint accepts as an initial access token for that tenant."""
    return tokens.mint(
        session,
        settings=settings,
        tenant_id=tenant_id,
        subject=f"portal:{developer_id}",
        client_id="wuye-developer-portal",
        scopes=["admin"],
        role=Role.TENANT_ADMIN,
        ttl_seconds=ttl_seconds,
    ).access_token


# --- promotion to production -----------------------------------------------------------


def request_promotion(
    *, session: Session, app_id: str, developer_id: str, redirect_uri: str, note: str
) -> SandboxApp:
    """Ask the host to review the app for production credentials."""
    app = get_app(session=session, app_id=app_id, developer_id=developer_id)
    if app.promotion in (Promotion.REQUESTED, Promotion.APPROVED):
        raise Conflict(f"promotion already {app.promotion}")
    try:
        federation.check_redirect_uri(redirect_uri.strip())
    except ValueError as exc:
        raise Problem("validation-error", f"redirect_uri: {exc}", field="redirect_uri") from exc
    app.promotion = Promotion.REQUESTED
    app.promotion_redirect_uri = redirect_uri.strip()
    app.promotion_note = note.strip()[:2000]
    session.flush()
    return app


def review_promotion(
    *, session: Session, app_id: str, reviewer: str, approve: bool, reason: str, settings: Settings
) -> SandboxApp:
    """The host's decision. Approval registers the production client: the authorization
    code grant only (with PKCE), so it reaches a member firm's data only when a user of
    that firm consents, and never through the sandbox tenant."""
    app = get_app(session=session, app_id=app_id)
    if app.promotion is not Promotion.REQUESTED:
        raise Conflict(f"promotion is {app.promotion}, not requested")
    app.reviewed_by, app.reviewed_at, app.review_reason = reviewer, utcnow(), reason
    if not approve:
        app.promotion = Promotion.REJECTED
        session.flush()
        return app
    client, secret = federation.create_client(
        session,
        tenant_id=federation.sandbox_tenant(session).id,
        name=f"{app.name} (production)",
        redirect_uris=[app.promotion_redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        scopes=None,
        role=Role.DEVELOPER,
        metadata={"software_id": f"wuye-app-{app.id}"},
    )
    assert secret is not None
    app.promotion = Promotion.APPROVED
    app.production_client_id = client.client_id
    app.production_secret_sealed = seal(settings.secret_bytes(), secret.encode(), _AAD)
    session.flush()
    return app


def reveal_production_secret(*, session: Session, app: SandboxApp, settings: Settings) -> str:
    """The production secret, once: it is forgotten as it is shown."""
    if app.production_secret_sealed is None:
        return ""
    secret = open_sealed(settings.secret_bytes(), app.production_secret_sealed, _AAD).decode()
    app.production_secret_sealed = None
    session.flush()
    return secret


def pending_promotions(*, session: Session) -> Sequence[SandboxApp]:
    return session.scalars(select(SandboxApp).order_by(SandboxApp.created_at, SandboxApp.id)).all()


# --- request log and usage -------------------------------------------------------------


def recent_requests(
    *, session: Session, client_id: str, limit: int = 100, status: int | None = None
) -> Sequence[RequestLog]:
    stmt = select(RequestLog).where(RequestLog.client_id == client_id)
    if status is not None:
        stmt = stmt.where(RequestLog.status == status)
    return session.scalars(stmt.order_by(RequestLog.created_at.desc()).limit(limit)).all()


def hourly_usage(
    *, session: Session, client_id: str, hours: int = 24, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Requests per hour (and errors among them) over the last ``hours``."""
    now = now or utcnow()
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    buckets = [
        {"hour": start + timedelta(hours=i), "requests": 0, "errors": 0} for i in range(hours)
    ]
    rows = session.execute(
        select(RequestLog.created_at, RequestLog.status).where(
            RequestLog.client_id == client_id, RequestLog.created_at >= start
        )
    )
    for created, status in rows:
        created = created if created.tzinfo else created.replace(tzinfo=start.tzinfo)
        i = int((created - start).total_seconds() // 3600)
        if 0 <= i < hours:
            buckets[i]["requests"] += 1
            buckets[i]["errors"] += status >= 400
    return buckets
