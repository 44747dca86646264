"""The synthetic estate every sandbox starts from, and resetting a sandbox to it.

A sandbox holds one estate (小区) with buildings, units, owners (fake people,
marked synthetic), technicians, work orders in several states, the year's
property-fee bills (物业费), and devices that have already streamed a day of
simulated telemetry through the real ingest pipeline (``wuye.adapters.simulator``
and ``wuye.adapters.ingest``). Votes and maintenance-fund movements live on the
ledger, which sandboxes do not write to: the regulators' ledger holds real
estates only.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from wuye.adapters.devices.keys import DeviceKeyring
from wuye.platform.bills import service as bills
from wuye.platform.bills.models import BillIn
from wuye.platform.db import Base, Database, Scope, TenantScoped
from wuye.platform.estates import service as estates
from wuye.platform.estates.models import EstateIn
from wuye.platform.owners import service as owners
from wuye.platform.owners.models import OwnerIn, OwnerKind, OwnershipIn
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.staff import service as staff
from wuye.platform.staff.models import StaffIn
from wuye.platform.workorders import service as workorders
from wuye.platform.workorders.models import TransitionIn, WorkOrderIn
from wuye.sandbox.mocks.hpf import FEE_YEAR
from wuye.sandbox.synthetic import SyntheticPeople

ESTATE = EstateIn(
    code="SANDBOX-01",
    name="沙箱示范小区（模拟数据）",
    city="杭州",
    district="余杭区",
    address="模拟路 1 号（虚构）",
    latitude=30.2741,
    longitude=120.0215,
)
BUILDINGS, FLOORS, UNITS_PER_FLOOR = 3, 6, 2
DEVICES = 4
#: Simulated readings per device: one every ten minutes over the last day.
READINGS_PER_DEVICE = 144
#: Property fee, fen per m² per month (杭州 普通住宅 in the range of a 2-star service).
PROPERTY_FEE_FEN_PER_M2_MONTH = 250
#: Tables a reset keeps: the developer's own history, not sandbox data.
KEPT_ON_RESET = frozenset({"sandbox_request_log"})


def seed_sandbox(
    database: Database,
    *,
    cipher: PersonalDataCipher,
    keyring: DeviceKeyring,
    tenant_id: str,
    seed: int,
) -> dict[str, int]:
    """Fill ``tenant_id`` with the synthetic estate; the same ``seed`` gives the same data."""
    rng = random.Random(seed)
    people = SyntheticPeople(seed=seed)
    with database.transaction(Scope.tenant(tenant_id)) as session:
        estate = estates.create_estate(session=session, estate_in=ESTATE)
        unit_ids = estates.create_grid(
            session=session,
            estate_id=estate.id,
            buildings=BUILDINGS,
            floors=FLOORS,
            units_per_floor=UNITS_PER_FLOOR,
            areas=("72.18", "89.36", "108.75", "126.40", "143.88"),
            rng=rng,
        )
        developer = owners.create_owner(
            session=session,
            cipher=cipher,
            owner_in=OwnerIn(name="模拟置业有限公司（虚构）", kind=OwnerKind.DEVELOPER),
            synthetic=True,
        )
        for i, unit_id in enumerate(unit_ids):
            if i % 10 == 9:  # unsold units stay with the developer
                owner_id = developer.id
            else:
                person = people.next()
                owner_id = owners.create_owner(
                    session=session,
                    cipher=cipher,
                    owner_in=OwnerIn(
                        name=person.name, phone=person.phone, id_number=person.id_number
                    ),
                    synthetic=True,
                ).id
            owners.add_ownership(
                session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=owner_id)
            )
            _bill_property_fee(session, unit_id)
        for name, title, skills in (
            ("赵师傅（模拟）", "电工 / electrician", ["electrical", "general"]),
            ("钱师傅（模拟）", "水暖工 / plumber", ["plumbing"]),
            ("孙师傅（模拟）", "电梯维保 / elevator", ["elevator"]),
        ):
            staff.create_staff(
                session=session,
                staff_in=StaffIn(
                    name=name,
                    title=title,
                    skills=skills,
                    estate_id=estate.id,
                    latitude=ESTATE.latitude,
                    longitude=ESTATE.longitude,
                ),
            )
        orders = [
            ("2幢电梯按钮失灵", "elevator", "high", True, None),
            ("地下车库照明不亮", "electrical", "normal", True, "in_progress"),
            ("3幢 502 厨房漏水", "plumbing", "urgent", True, "resolved"),
            ("小区公告栏更换", "general", "low", False, None),
        ]
        for title, skill, priority, dispatch, status in orders:
            order = workorders.create_work_order(
                session=session,
                order_in=WorkOrderIn(
                    estate_id=estate.id,
                    title=title,
                    skill=skill,
                    priority=priority,
                    dispatch=dispatch,
                ),
                actor="sandbox-seed",
            )
            for step in {
                "in_progress": ["in_progress"],
                "resolved": ["in_progress", "resolved"],
            }.get(status or "", []):
                workorders.transition(
                    session=session,
                    work_order_id=order.id,
                    transition_in=TransitionIn(status=step),
                    actor="sandbox",
                )
        estate_id = estate.id
    readings = _stream_telemetry(database, keyring, estate_id=estate_id, seed=seed)
    return counts(database, tenant_id) | {"readings_sent": readings}


def _bill_property_fee(session: Session, unit_id: str) -> None:
    """The unit's property fee for the fee year: area x monthly rate x 12, in fen."""
    from wuye.platform.estates.models import Unit

    area = session.get(Unit, unit_id).floor_area_m2
    amount = (Decimal(area) * PROPERTY_FEE_FEN_PER_M2_MONTH * 12).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    bills.create_bill(
        session=session,
        bill_in=BillIn(
            unit_id=unit_id,
            kind="property_fee",
            period=FEE_YEAR,
            amount_fen=int(amount),
            due_date=date(int(FEE_YEAR), 3, 31),
            description=f"{FEE_YEAR} 年度物业费 / property fee",
        ),
        actor="sandbox-seed",
        today=date(int(FEE_YEAR), 1, 1),
    )


DEVICE_TYPES = ("water_pump", "elevator", "fire_alarm", "power_meter")


def simulated_devices(
    database: Database, keyring: DeviceKeyring, *, estate_id: str, seed: int
) -> list:
    """The sandbox's devices, registered (or re-keyed) as the simulator's devices."""
    from wuye.adapters import simulator

    return simulator.provision_devices(
        database,
        keyring,
        estate_id=estate_id,
        count=DEVICES,
        prefix="SBX",
        seed=seed,
        types=DEVICE_TYPES,
    )


def _stream_telemetry(
    database: Database, keyring: DeviceKeyring, *, estate_id: str, seed: int
) -> int:
    """Register simulated devices and push a day of their telemetry through the ingest."""
    from wuye.adapters import simulator
    from wuye.adapters.ingest import Pipeline
    from wuye.adapters.thresholds import now_ms

    devices = simulated_devices(database, keyring, estate_id=estate_id, seed=seed)
    start = now_ms() - READINGS_PER_DEVICE * 600_000
    clock = iter(range(start, start + 10 * READINGS_PER_DEVICE * DEVICES * 600_000, 150_000))
    messages = list(
        simulator.stream(devices, count=READINGS_PER_DEVICE * DEVICES, clock=lambda: next(clock))
    )
    pipeline = Pipeline(database, keyring)
    for i in range(0, len(messages), 200):
        pipeline.process(messages[i : i + 200])
    return len(messages)


def counts(database: Database, tenant_id: str) -> dict[str, int]:
    from wuye.adapters.devices.models import Device
    from wuye.adapters.telemetry.models import Reading
    from wuye.platform.bills.models import Bill
    from wuye.platform.estates.models import Unit
    from wuye.platform.owners.models import Owner
    from wuye.platform.workorders.models import WorkOrder

    with database.transaction(Scope.tenant(tenant_id)) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("units", Unit),
                ("owners", Owner),
                ("devices", Device),
                ("work_orders", WorkOrder),
                ("readings", Reading),
                ("bills", Bill),
            )
        }


def wipe(database: Database, *, tenant_id: str) -> None:
    """Delete every row of the tenant's own data (not its clients, tokens or request log)."""
    tables = [
        mapper.local_table
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped) and mapper.local_table.name not in KEPT_ON_RESET
    ]
    order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
    with database.transaction(Scope.for_host()) as session:
        for table in sorted(tables, key=lambda t: order[t.name], reverse=True):
            session.execute(delete(table).where(table.c.tenant_id == tenant_id))
