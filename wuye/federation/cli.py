"""``wuye federation``: onboarding and tenant administration from the command line."""

from __future__ import annotations

import json

import click
from pydantic import ValidationError

from wuye.federation import service
from wuye.platform.db import Database, Scope
from wuye.platform.problems import Problem
from wuye.platform.settings import get_settings


def _database() -> Database:
    return Database(get_settings().effective_database_url)


def _fail(exc: Exception) -> click.ClickException:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return click.ClickException(f"{field}: {first['msg'].removeprefix('Value error, ')}")
    if isinstance(exc, Problem):
        return click.ClickException(exc.detail or exc.title)
    return click.ClickException(str(exc))


@click.group()
def federation() -> None:
    """租户与授权 / Tenants, onboarding and OAuth clients."""


@federation.command()
@click.option("--name", required=True, help="企业名称 / firm name")
@click.option("--credit-code", required=True, help="统一社会信用代码 (GB 32100-2015)")
@click.option("--contact-name", default="", help="联系人 / contact person")
@click.option("--contact-phone", default="", help="联系电话 / contact phone")
@click.option("--approve", is_flag=True, help="同时批准 / approve at once, as the host")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def onboard(
    name: str,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
    approve: bool,
    as_json: bool,
) -> None:
    """提交入驻申请（可直接批准）/ Apply to join, and optionally approve at once."""
    from wuye.federation.models import ApplicationIn, ApplicationOut

    settings = get_settings()
    database = _database()
    try:
        if approve:
            out = service.onboard_approved(
                database,
                name=name,
                credit_code=credit_code,
                contact_name=contact_name,
                contact_phone=contact_phone,
                settings=settings,
            )
        else:
            application_in = ApplicationIn(
                name=name,
                credit_code=credit_code,
                contact_name=contact_name or name,
                contact_phone=contact_phone or None,
            )
            with database.transaction(Scope.for_host()) as session:
                application = service.apply(
                    session, application_in=application_in, settings=settings
                )
                out = ApplicationOut.model_validate(application).model_dump(mode="json")
    except (ValidationError, Problem) as exc:
        raise _fail(exc) from exc
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    elif approve:
        click.echo(f"已入驻 / onboarded: tenant {out['tenant_id']}")
        click.echo(f"  client_id     {out['client_id']}")
        click.echo(f"  client_secret {out['client_secret']}  (仅显示一次 / shown once)")
        click.echo(f"  admin         {out['admin_username']} / {out['admin_password']}")
    else:
        click.echo(f"申请已提交 / application submitted: {out['id']}")


@federation.command()
@click.argument("tenant_id")
def suspend(tenant_id: str) -> None:
    """暂停租户并吊销其全部令牌 / Suspend a tenant and revoke all of its tokens."""
    database = _database()
    try:
        with database.transaction(Scope.for_host()) as session:
            service.suspend_tenant(session, tenant_id=tenant_id)
    except Problem as exc:
        raise _fail(exc) from exc
    finally:
        database.dispose()
    click.echo(f"已暂停 / suspended: {tenant_id}")


@federation.command()
@click.argument("tenant_id")
def reactivate(tenant_id: str) -> None:
    """恢复租户 / Reactivate a suspended tenant."""
    database = _database()
    try:
        with database.transaction(Scope.for_host()) as session:
            service.reactivate_tenant(session, tenant_id=tenant_id)
    except Problem as exc:
        raise _fail(exc) from exc
    finally:
        database.dispose()
    click.echo(f"已恢复 / reactivated: {tenant_id}")


@federation.command("rotate-key")
def rotate_key() -> None:
    """轮换令牌签名密钥 / Make a new token signing key active (the old one stays published
    until its tokens expire)."""
    from wuye.federation import keys

    settings = get_settings()
    database = _database()
    try:
        with database.transaction(Scope.for_host()) as session:
            key = keys.rotate(session, settings=settings)
            kid = key.kid
    finally:
        database.dispose()
    click.echo(f"新密钥 / new key: {kid}")


@federation.command("registration-token")
def registration_token() -> None:
    """显示动态注册初始令牌 / Print the RFC 7591 initial access token."""
    from wuye.federation.oauth2.rfc7591 import registration_token as token

    click.echo(token(get_settings()))
