"""The platform's bearer-token check: ``app.state.token_verifier`` and its factory,
``tokens.issue_access_token``."""

from __future__ import annotations

import base64
import json

import pytest

from wuye.federation import keys, service, tokens
from wuye.federation.models import OAuthToken, Role, Tenant, TenantKind, TenantStatus
from wuye.federation.tokens import TokenVerifier, issue_access_token
from wuye.platform.db import Database, Scope
from wuye.platform.problems import Problem
from wuye.platform.settings import Settings

from .conftest import credit_code


def _tenant(database: Database, kind: TenantKind = TenantKind.MEMBER) -> str:
    with database.transaction(Scope.for_host()) as session:
        tenant = Tenant(name="测试物业", credit_code=credit_code(), kind=kind)
        tenant.status = TenantStatus.ACTIVE
        session.add(tenant)
        session.flush()
        return tenant.id


def _token(database: Database, settings: Settings, tenant_id: str, **kwargs: object) -> str:
    args: dict[str, object] = dict(
        settings=settings,
        database=database,
        tenant_id=tenant_id,
        subject="user-1",
        client_id="client-1",
        scopes=["estates:read"],
        role=Role.TENANT_STAFF,
    )
    args.update(kwargs)
    return issue_access_token(**args)  # type: ignore[arg-type]


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def _rejects(verifier: TokenVerifier, token: str, reason: str) -> None:
    with pytest.raises(Problem) as caught:
        verifier(token)
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert reason in (caught.value.detail or "")


def test_issued_token_verifies_to_its_principal(database: Database, settings: Settings) -> None:
    tenant_id = _tenant(database)
    token = _token(database, settings, tenant_id)
    principal = TokenVerifier(database, settings)(token)
    assert principal.tenant_id == tenant_id
    assert principal.subject == "user-1"
    assert principal.client_id == "client-1"
    assert principal.scopes == frozenset({"estates:read"})
    assert principal.role == "tenant_staff"
    assert principal.host is False
    assert principal.token_id


def test_token_is_a_jwt_access_token_per_rfc9068(database: Database, settings: Settings) -> None:
    from joserfc import jwt

    tenant_id = _tenant(database)
    token = _token(database, settings, tenant_id)
    with database.transaction(Scope.for_host()) as session:
        (public,) = keys.jwks(session)["keys"]
    decoded = jwt.decode(token, keys.ES256().load_public(public), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["kid"] == public["kid"]
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} <= decoded.claims.keys()
    assert decoded.claims["iss"] == settings.public_url


def test_host_flag_requires_the_host_tenant(database: Database, settings: Settings) -> None:
    member = _tenant(database)
    with pytest.raises(ValueError, match="not the host firm"):
        _token(database, settings, member, host=True)
    host = _tenant(database, TenantKind.HOST)
    token = _token(database, settings, host, host=True, role=Role.HOST_ADMIN, scopes=["admin"])
    assert TokenVerifier(database, settings)(token).host is True


def test_a_role_never_gets_a_scope_it_does_not_allow(
    database: Database, settings: Settings
) -> None:
    tenant_id = _tenant(database)
    with pytest.raises(ValueError, match="may not hold scope admin"):
        _token(database, settings, tenant_id, role=Role.OWNER, scopes=["admin"])


def test_expired_token_is_rejected(database: Database, settings: Settings) -> None:
    tenant_id = _tenant(database)
    token = _token(database, settings, tenant_id, ttl_seconds=-(tokens.LEEWAY_SECONDS + 1))
    _rejects(TokenVerifier(database, settings), token, "expired")


def test_token_for_another_issuer_or_audience_is_rejected(
    database: Database, settings: Settings
) -> None:
    tenant_id = _tenant(database)
    token = _token(database, settings, tenant_id)
    elsewhere = settings.model_copy(update={"public_url": "https://other.example"})
    _rejects(TokenVerifier(database, elsewhere), token, "wrong issuer")


def test_tampered_token_is_rejected(database: Database, settings: Settings) -> None:
    tenant_id = _tenant(database)
    header, payload, signature = _token(database, settings, tenant_id).split(".")
    forged = _token(database, settings, tenant_id, scopes=["estates:read", "estates:write"])
    _rejects(
        TokenVerifier(database, settings),
        f"{header}.{forged.split('.')[1]}.{signature}",
        "bad signature",
    )
    _rejects(TokenVerifier(database, settings), "not-a-token", "malformed")


def test_suspension_voids_every_token_of_the_tenant(database: Database, settings: Settings) -> None:
    tenant_id = _tenant(database)
    token = _token(database, settings, tenant_id)
    verifier = TokenVerifier(database, settings)
    verifier(token)
    with database.transaction(Scope.for_host()) as session:
        service.suspend_tenant(session, tenant_id=tenant_id)
    _rejects(verifier, token, "tenant is not active")
    with database.transaction(Scope.for_host()) as session:
        service.reactivate_tenant(session, tenant_id=tenant_id)
    _rejects(verifier, token, "revoked")
    verifier(_token(database, settings, tenant_id))  # new tokens work again


def test_revoked_token_is_rejected(database: Database, settings: Settings) -> None:
    tenant_id = _tenant(database)
    token = _token(database, settings, tenant_id)
    verifier = TokenVerifier(database, settings)
    with database.transaction(Scope.for_host()) as session:
        record = session.get(OAuthToken, verifier.decode(token)["jti"])
        tokens.revoke_family(session, record.family_id)
    _rejects(verifier, token, "revoked")


def test_rotated_key_keeps_verifying_old_tokens_until_they_expire(
    database: Database, settings: Settings
) -> None:
    tenant_id = _tenant(database)
    old = _token(database, settings, tenant_id)
    with database.transaction(Scope.for_host()) as session:
        keys.rotate(session, settings=settings)
    new = _token(database, settings, tenant_id)
    verifier = TokenVerifier(database, settings)
    assert verifier(new).token_id != verifier(old).token_id
    with database.transaction(Scope.for_host()) as session:
        published = [k["kid"] for k in keys.jwks(session)["keys"]]
    assert published == [_kid(new), _kid(old)]


def test_sm2sm3_setting_signs_tokens_with_sm2(database: Database, settings: Settings) -> None:
    """国密 deployments: ``WUYE_TOKEN_SIGNING_ALG=SM2SM3`` signs with SM2 over SM3."""
    gm = settings.model_copy(update={"token_signing_alg": "SM2SM3"})
    tenant_id = _tenant(database)
    token = _token(database, gm, tenant_id)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "SM2SM3"
    with database.transaction(Scope.for_host()) as session:
        (public,) = keys.jwks(session)["keys"]
    assert (public["crv"], public["alg"]) == ("SM2", "SM2SM3") and "d" not in public
    assert TokenVerifier(database, gm)(token).tenant_id == tenant_id
    header_part, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BA")
    _rejects(TokenVerifier(database, gm), f"{header_part}.{payload}.{flipped}", "bad signature")


def test_a_token_whose_alg_does_not_match_its_key_is_rejected(
    database: Database, settings: Settings
) -> None:
    tenant_id = _tenant(database)
    header_part, payload, signature = _token(database, settings, tenant_id).split(".")
    header = json.loads(base64.urlsafe_b64decode(header_part + "=="))
    header["alg"] = "HS256"
    forged = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    _rejects(TokenVerifier(database, settings), f"{forged}.{payload}.{signature}", "algorithm")
