"""The demo data `make run` seeds on first start, and `wuye demo seed` on demand.

A host firm, two member firms, each with an estate of buildings, units of
realistic areas, owners (co-owners, one owner of two units, the developer's
unsold units), technicians, and credentials to try the platform with. Every
person is fake and marked ``synthetic``; phone numbers use the 1390000xxxx block.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuye.federation import service as federation
from wuye.federation.credit_code import complete
from wuye.federation.models import Role, Tenant
from wuye.platform.db import Database, Scope
from wuye.platform.estates import service as estates
from wuye.platform.estates.models import EstateIn
from wuye.platform.owners import service as owners
from wuye.platform.owners.models import OwnerIn, OwnerKind, OwnershipIn
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.settings import Settings
from wuye.platform.staff import service as staff
from wuye.platform.staff.models import StaffIn

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超")


@dataclass(frozen=True)
class DemoFirm:
    name: str
    credit_code_17: str
    admin: str
    estate: EstateIn


HOST = DemoFirm(
    name="云栖智慧物业集团有限公司",
    credit_code_17="91330100MA2B00001",
    admin="host-admin",
    estate=EstateIn(
        code="YQ-01",
        name="云栖花园",
        city="杭州",
        district="西湖区",
        address="云栖路 1 号",
        latitude=30.1950,
        longitude=120.0970,
    ),
)
MEMBERS = (
    DemoFirm(
        name="西溪安居物业服务有限公司",
        credit_code_17="91330106MA2C00002",
        admin="xixi-admin",
        estate=EstateIn(
            code="XX-01",
            name="西溪润园",
            city="杭州",
            district="西湖区",
            address="文二西路 88 号",
            latitude=30.2780,
            longitude=120.0650,
        ),
    ),
    DemoFirm(
        name="钱塘家园物业管理有限公司",
        credit_code_17="91330114MA2D00003",
        admin="qiantang-admin",
        estate=EstateIn(
            code="QT-01",
            name="钱塘春晓苑",
            city="杭州",
            district="钱塘区",
            address="义蓬街道 12 号",
            latitude=30.3020,
            longitude=120.4960,
        ),
    ),
)


def credentials_path(settings: Settings) -> Path:
    return settings.var_dir / "demo-credentials.json"


def is_seeded(settings: Settings) -> bool:
    database = Database(settings.effective_database_url)
    try:
        with database.transaction(Scope.for_host()) as session:
            return bool(session.scalar(select(func.count()).select_from(Tenant)))
    finally:
        database.dispose()


def populate_estate(
    session: Session,
    *,
    cipher: PersonalDataCipher,
    estate_in: EstateIn,
    rng: random.Random,
    buildings: int = 3,
    floors: int = 6,
    units_per_floor: int = 2,
    phone_block: int = 0,
) -> dict[str, int]:
    """One estate with buildings, units, owners and technicians, in the session's tenant."""
    estate = estates.create_estate(session=session, estate_in=estate_in)
    unit_ids = estates.create_grid(
        session=session,
        estate_id=estate.id,
        buildings=buildings,
        floors=floors,
        units_per_floor=units_per_floor,
        areas=("89.36", "96.12", "108.75", "126.40", "143.88"),
        rng=rng,
    )
    developer = owners.create_owner(
        session=session,
        cipher=cipher,
        owner_in=OwnerIn(name=f"{estate_in.name}开发建设有限公司", kind=OwnerKind.DEVELOPER),
        synthetic=True,
    )
    sold = unit_ids[: int(len(unit_ids) * 0.9)]
    unsold = unit_ids[len(sold) :]
    people = 0
    previous = None
    for i, unit_id in enumerate(sold):
        person = owners.create_owner(
            session=session,
            cipher=cipher,
            owner_in=OwnerIn(
                name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                phone=f"1390000{phone_block + people:04d}",
            ),
            synthetic=True,
        )
        people += 1
        owners.add_ownership(
            session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=person.id)
        )
        if i % 7 == 3:  # a co-owner for some units
            spouse = owners.create_owner(
                session=session,
                cipher=cipher,
                owner_in=OwnerIn(
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    phone=f"1390000{phone_block + people:04d}",
                ),
                synthetic=True,
            )
            people += 1
            owners.add_ownership(
                session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=spouse.id)
            )
        if i % 11 == 5 and previous is not None:  # one buyer of several units
            owners.add_ownership(
                session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=previous)
            )
        previous = person.id
    for unit_id in unsold:
        owners.add_ownership(
            session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=developer.id)
        )
    technicians = (
        ("赵师傅", "电工 / electrician", ["electrical", "general"]),
        ("钱师傅", "水暖工 / plumber", ["plumbing", "gas"]),
        ("孙师傅", "电梯维保 / elevator", ["elevator"]),
        ("李师傅", "消防设施操作员 / fire systems", ["fire", "security"]),
    )
    for name, title, skills in technicians:
        staff.create_staff(
            session=session,
            staff_in=StaffIn(
                name=name,
                title=title,
                skills=skills,
                estate_id=estate.id,
                latitude=(estate_in.latitude or 0) + rng.uniform(-0.01, 0.01),
                longitude=(estate_in.longitude or 0) + rng.uniform(-0.01, 0.01),
            ),
        )
    return {"units": len(unit_ids), "owners": people + 1, "staff": len(technicians)}


def seed(settings: Settings, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Seed the demo once; returns (and saves under var/) the credentials to try it with."""
    say = progress or (lambda _line: None)
    database = Database(settings.effective_database_url)
    cipher = PersonalDataCipher(settings.secret_bytes())
    rng = random.Random(2020_99)
    firms: list[dict[str, Any]] = []
    try:
        with database.transaction(Scope.for_host()) as session:
            if session.scalar(select(func.count()).select_from(Tenant)):
                raise FileExistsError(credentials_path(settings), "demo data already present")
        with database.transaction(Scope.for_host()) as session:
            host = federation.ensure_host(
                session,
                name=HOST.name,
                credit_code=complete(HOST.credit_code_17),
                admin_username=HOST.admin,
                admin_password=(host_password := _password()),
            )
            client, secret = federation.create_client(
                session,
                tenant_id=host.id,
                name="平台默认应用 / host default client",
                redirect_uris=[],
                grant_types=["client_credentials"],
                scopes=None,
                role=Role.HOST_ADMIN,
            )
            firms.append(
                {
                    "tenant_id": host.id,
                    "client_id": client.client_id,
                    "client_secret": secret,
                    "admin_username": HOST.admin,
                    "admin_password": host_password,
                }
            )
        for firm in MEMBERS:
            say(f"入驻 / onboarding {firm.name}")
            firms.append(
                federation.onboard_approved(
                    database,
                    name=firm.name,
                    credit_code=complete(firm.credit_code_17),
                    admin_username=firm.admin,
                    admin_password=_password(),
                    reviewer=HOST.admin,
                    settings=settings,
                )
            )
        for firm, record in zip((HOST, *MEMBERS), firms, strict=True):
            record["name"] = firm.name
            record["kind"] = "host" if firm is HOST else "member"
            with database.transaction(Scope.for_host()) as session:
                public, _ = federation.create_client(
                    session,
                    tenant_id=record["tenant_id"],
                    name="API 文档调试 / Swagger UI (PKCE)",
                    redirect_uris=[f"{settings.public_url}/docs/oauth2-redirect"],
                    grant_types=["authorization_code", "refresh_token"],
                    scopes=None,
                    role=Role.HOST_ADMIN if firm is HOST else Role.TENANT_ADMIN,
                    token_endpoint_auth_method="none",  # noqa: S106 - a public client
                )
                record["swagger_client_id"] = public.client_id
        for i, (firm, record) in enumerate(zip((HOST, *MEMBERS), firms, strict=True)):
            say(f"小区 / estate {firm.estate.name}")
            with database.transaction(Scope.tenant(record["tenant_id"])) as session:
                record["estate"] = firm.estate.name
                record["counts"] = populate_estate(
                    session,
                    cipher=cipher,
                    estate_in=firm.estate,
                    rng=rng,
                    phone_block=i * 1000,
                )
    finally:
        database.dispose()
    result = {"public_url": settings.public_url, "firms": firms}
    path = credentials_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    path.chmod(0o600)
    return result


def _password() -> str:
    """A fresh random password (the data is reproducible; the credentials never are)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))


def describe(result: dict[str, Any]) -> str:
    lines = ["演示账号 / demo credentials (also in var/demo-credentials.json):"]
    for firm in result["firms"]:
        lines.append(f"  {firm['name']}  [{firm['kind']}]  小区 {firm.get('estate', '')}")
        lines.append(f"    管理员 / admin   {firm['admin_username']} / {firm['admin_password']}")
        lines.append(f"    OAuth client   {firm['client_id']} / {firm['client_secret']}")
        lines.append(f"    Swagger UI (PKCE) client_id   {firm['swagger_client_id']}")
    return "\n".join(lines)


def seed_on_ledger(settings: Settings, *, progress: Callable[[str], None] | None = None) -> None:
    """The demo's ledger history, once the ledger is up: a year of one estate's
    maintenance fund (with a repair its owners approved by vote, and an emergency
    repair) and a year of the firms' credit ratings.

    Each step is idempotent, so ``wuye run`` calls this on every start and a start
    interrupted half-way finishes the history on the next one.
    """
    from wuye.ledger.credit.demo import seed_credit
    from wuye.ledger.fund.demo import seed_fund_demo

    say = progress or (lambda _line: None)
    path = credentials_path(settings)
    if not path.exists():
        say("不是演示实例，跳过 / not a demo instance: no ledger history made up")
        return
    demo_firms = {firm["tenant_id"] for firm in json.loads(path.read_text())["firms"]}
    say("专项维修资金 / maintenance fund: a year of movements, a voted repair")
    seed_fund_demo(settings, progress=say)
    say("信用评价 / credit ratings: a year of monthly scores")
    seed_credit(settings, progress=say, tenant_ids=demo_firms)
