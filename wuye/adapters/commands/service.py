"""Device commands: queue, send protected, record the device's answer, expire.

Lifecycle: ``queued`` (accepted by the API) -> ``sent`` (protected under the
platform's Sender Key with the next number of the device's ``tx_seq`` and
published by the relay) -> ``acknowledged`` or ``failed`` (the device's
verified answer) ; a command still queued or sent at ``expires_ms`` becomes
``expired``, and an answer after that is refused as ``late``.

Plain functions over a tenant-scoped session; ``relay.py`` does the MQTT side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from wuye.adapters import oscore
from wuye.adapters.commands import catalog
from wuye.adapters.commands.models import OPEN_STATUSES, CommandIn, DeviceCommand
from wuye.adapters.devices.keys import DeviceKeyring
from wuye.adapters.devices.models import Device, commands_topic
from wuye.adapters.devices.service import get_device
from wuye.adapters.thresholds import now_ms
from wuye.platform.crud import get_or_404
from wuye.platform.db import utcnow
from wuye.platform.problems import Conflict, Problem

#: Commands one relay pass sends per firm.
SEND_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Outgoing:
    command_id: str
    topic: str
    payload: bytes


def create_command(
    *, session: Session, device_id: str, command_in: CommandIn, actor: str = ""
) -> DeviceCommand:
    device = get_device(session=session, device_id=device_id)
    if device.status != "active":
        raise Conflict("the device is disabled")
    if device.master_secret_sealed is None:
        raise Conflict("the device has no keys yet: provision it first")
    errors = catalog.check(device.type, command_in.name, command_in.params)
    if errors:
        raise Problem("validation-error", "; ".join(errors))
    command = DeviceCommand(
        device_id=device.id,
        name=command_in.name,
        params=command_in.params,
        status="queued",
        requested_by=actor,
        expires_ms=now_ms() + command_in.ttl_s * 1000,
    )
    session.add(command)
    session.flush()
    return command


def get_command(*, session: Session, command_id: str) -> DeviceCommand:
    return get_or_404(session, DeviceCommand, command_id, what="command")


def commands_query(
    *, device_id: str | None = None, status: str | None = None
) -> Select[tuple[DeviceCommand]]:
    stmt = select(DeviceCommand)
    if device_id:
        stmt = stmt.where(DeviceCommand.device_id == device_id)
    if status:
        stmt = stmt.where(DeviceCommand.status == status)
    return stmt


def expire_overdue(*, session: Session, at_ms: int | None = None) -> int:
    """Queued or sent commands past their time become ``expired``; returns how many."""
    result = session.execute(
        update(DeviceCommand)
        .where(
            DeviceCommand.status.in_(OPEN_STATUSES),
            DeviceCommand.expires_ms < (now_ms() if at_ms is None else at_ms),
        )
        .values(status="expired", error="no answer in time")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def command_body(command: DeviceCommand) -> bytes:
    """The plaintext a device receives: what to do, until when, and the command's id."""
    return json.dumps(
        {
            "id": command.id,
            "name": command.name,
            "params": command.params,
            "exp": command.expires_ms,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def send_queued(
    *, session: Session, keyring: DeviceKeyring, limit: int = SEND_LIMIT
) -> list[Outgoing]:
    """Protect the queued commands and mark them ``sent``; the caller publishes after commit.

    Each command takes the next number of its device's ``tx_seq``, reserved by
    an atomic increment, so relays in several processes never hand out one
    number twice: under one key no nonce is used twice (RFC 8613, 7.2.1). A
    command another relay claimed meanwhile is skipped (its number is simply
    not used).
    """
    queued = session.scalars(
        select(DeviceCommand)
        .where(DeviceCommand.status == "queued", DeviceCommand.expires_ms >= now_ms())
        .order_by(DeviceCommand.created_at)
        .limit(limit)
    ).all()
    out: list[Outgoing] = []
    for command in queued:
        row = session.execute(
            update(Device)
            .where(Device.id == command.device_id)
            .values(tx_seq=Device.tx_seq + 1)
            .returning(
                Device.tx_seq,
                Device.key_version,
                Device.master_secret_sealed,
                Device.code,
                Device.estate_id,
                Device.tenant_id,
                Device.status,
            )
            .execution_options(synchronize_session=False)
        ).one()
        next_seq, key_version, sealed, code, estate_id, tenant_id, status = row
        if sealed is None or status != "active":
            command.status, command.error = "failed", "the device lost its keys or was disabled"
            continue
        secret = keyring.open_master_secret(command.device_id, key_version, sealed)
        sender, _ = oscore.platform_contexts(secret, code, next_seq=next_seq - 1)
        topic = commands_topic(tenant_id, estate_id, code)
        payload = sender.protect(command_body(command), topic)
        claimed = session.execute(
            update(DeviceCommand)
            .where(DeviceCommand.id == command.id, DeviceCommand.status == "queued")
            .values(
                status="sent",
                key_version=key_version,
                seq=next_seq - 1,
                payload=payload,
                sent_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:
            out.append(Outgoing(command.id, topic, payload))
    return out


def unanswered(*, session: Session) -> list[Outgoing]:
    """Sent commands still awaiting an answer, to publish again unchanged (after a restart).

    The device's replay window refuses a copy it already executed; it answers
    it again from its cache, so nothing runs twice.
    """
    rows = session.execute(
        select(
            DeviceCommand.id, DeviceCommand.payload, Device.tenant_id, Device.estate_id, Device.code
        )
        .join(Device, Device.id == DeviceCommand.device_id)
        .where(DeviceCommand.status == "sent", DeviceCommand.expires_ms >= now_ms())
    ).all()
    return [Outgoing(i, commands_topic(t, e, c), p) for i, p, t, e, c in rows if p]


def parse_result_topic(topic: str) -> tuple[str, str, str] | None:
    """``wuye/{tenant}/{estate}/{code}/commands/result`` -> (tenant, estate, code)."""
    parts = topic.split("/")
    if (
        len(parts) != 6
        or parts[0] != "wuye"
        or parts[4:] != ["commands", "result"]
        or not all(parts[1:4])
    ):
        return None
    return parts[1], parts[2], parts[3]


def record_answer(
    *, session: Session, keyring: DeviceKeyring, topic: str, payload: bytes
) -> DeviceCommand:
    """Verify a device's answer and close its command; raises :class:`oscore.Rejected`.

    Reasons: ``malformed``, ``unknown_device``, ``unknown_command`` (no command
    was sent with that number under the device's current keys), ``auth_failed``
    (forged or tampered), ``replayed`` (the command already has its answer),
    ``late`` (it expired first).
    """
    parsed = parse_result_topic(topic)
    if parsed is None:
        raise oscore.Rejected("malformed", f"not a command result topic: {topic}")
    _tenant, estate_id, code = parsed
    seq = oscore.response_request_seq(payload)
    device = session.scalars(
        select(Device).where(Device.code == code, Device.estate_id == estate_id)
    ).one_or_none()
    if device is None or device.master_secret_sealed is None:
        raise oscore.Rejected("unknown_device", code)
    command = session.scalars(
        select(DeviceCommand)
        .where(
            DeviceCommand.device_id == device.id,
            DeviceCommand.key_version == device.key_version,
            DeviceCommand.seq == seq,
        )
        .with_for_update()
    ).one_or_none()
    if command is None:
        raise oscore.Rejected("unknown_command", f"no command {seq} was sent to {code}")
    secret = keyring.open_master_secret(device.id, device.key_version, device.master_secret_sealed)
    _sender, recipient = oscore.platform_contexts(secret, code)
    body = recipient.unprotect_response(payload, topic, request_kid=oscore.PLATFORM_SENDER_ID)
    if command.status == "expired":
        raise oscore.Rejected("late", f"command {command.id} expired before its answer")
    if command.status != "sent":
        raise oscore.Rejected("replayed", f"command {command.id} already has its answer")
    try:
        answer = json.loads(body)
        if not isinstance(answer, dict) or answer.get("id") != command.id:
            raise ValueError("the answer names another command")
    except ValueError as exc:
        raise oscore.Rejected("undecodable", str(exc)) from None
    ok = bool(answer.get("ok"))
    command.status = "acknowledged" if ok else "failed"
    command.result = answer.get("result") if isinstance(answer.get("result"), dict) else None
    command.error = None if ok else str(answer.get("error") or "failed")[:500]
    command.answered_at = utcnow()
    session.flush()
    return command
