"""Devices: registry and provisioning, plain functions over a tenant-scoped session."""

from __future__ import annotations

import os

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wuye import crypto
from wuye.adapters.devices.keys import DeviceKeyring
from wuye.adapters.devices.models import (
    Device,
    DeviceIn,
    DevicePatch,
    ProvisionIn,
    ProvisionOut,
    commands_topic,
    telemetry_topic,
)
from wuye.adapters.vendors import VENDORS
from wuye.platform.crud import flush_or_conflict, get_or_404
from wuye.platform.db import utcnow
from wuye.platform.estates.service import get_building, get_estate
from wuye.platform.problems import Problem


def get_device(*, session: Session, device_id: str) -> Device:
    return get_or_404(session, Device, device_id, what="device")


def _check_vendor(vendor: str) -> None:
    if vendor not in VENDORS:
        known = ", ".join(sorted(VENDORS))
        raise Problem("validation-error", f"vendor: unknown format {vendor!r}; known: {known}")


def _check_building(session: Session, estate_id: str, building_id: str | None) -> None:
    if (
        building_id
        and get_building(session=session, building_id=building_id).estate_id != estate_id
    ):
        raise Problem("validation-error", "building_id: the building is in another estate")


def create_device(*, session: Session, keyring: DeviceKeyring, device_in: DeviceIn) -> Device:
    estate = get_estate(session=session, estate_id=device_in.estate_id)
    _check_vendor(device_in.vendor)
    _check_building(session, estate.id, device_in.building_id)
    data = device_in.model_dump(exclude={"vendor_credentials"})
    if data["latitude"] is None and data["longitude"] is None:
        data["latitude"], data["longitude"] = estate.latitude, estate.longitude
    device = Device(**data)
    session.add(device)
    flush_or_conflict(session, f"device code {device_in.code!r} already exists")
    if device_in.vendor_credentials is not None:
        device.vendor_credentials_sealed = keyring.seal_credentials(
            device.id, device_in.vendor_credentials
        )
    session.flush()
    return device


def update_device(
    *, session: Session, keyring: DeviceKeyring, device_id: str, patch: DevicePatch
) -> Device:
    device = get_device(session=session, device_id=device_id)
    fields = patch.model_dump(exclude_unset=True)
    if "vendor" in fields:
        _check_vendor(fields["vendor"])
    if fields.get("building_id"):
        _check_building(session, device.estate_id, fields["building_id"])
    credentials = fields.pop("vendor_credentials", ...)
    for name, value in fields.items():
        setattr(device, name, value)
    if credentials is not ...:
        device.vendor_credentials_sealed = (
            None if credentials is None else keyring.seal_credentials(device.id, credentials)
        )
    session.flush()
    return device


def delete_device(*, session: Session, device_id: str) -> None:
    session.delete(get_device(session=session, device_id=device_id))
    session.flush()


def devices_query(
    *,
    estate_id: str | None = None,
    type: str | None = None,  # noqa: A002 - the domain's word
    status: str | None = None,
    q: str | None = None,
) -> Select[tuple[Device]]:
    stmt = select(Device)
    if estate_id:
        stmt = stmt.where(Device.estate_id == estate_id)
    if type:
        stmt = stmt.where(Device.type == type)
    if status:
        stmt = stmt.where(Device.status == status)
    if q:
        stmt = stmt.where(Device.code.contains(q, autoescape=True))
    return stmt


def provision_device(
    *, session: Session, keyring: DeviceKeyring, device_id: str, provision_in: ProvisionIn
) -> ProvisionOut:
    """Give the device a new security context; the previous keys stop working.

    ``psk``: a fresh SM2 key pair and 16-byte SM4 master secret, returned once.
    ``sm2-agreement``: the platform answers as responder of GB/T 32918.3 key
    agreement; the agreed 16 bytes are the master secret and never leave it.
    """
    device = get_device(session=session, device_id=device_id)
    device.key_version += 1
    out = {
        "device_id": device.id,
        "code": device.code,
        "mode": provision_in.mode,
        "key_version": device.key_version,
        "telemetry_topic": telemetry_topic(device.tenant_id, device.estate_id, device.code),
        "commands_topic": commands_topic(device.tenant_id, device.estate_id, device.code),
    }
    if provision_in.mode == "psk":
        device_key = crypto.SM2PrivateKey.generate()
        master_secret = os.urandom(16)
        public_hex = device_key.public_key.to_hex()
        out |= {
            "master_secret": master_secret.hex(),
            "device_private_key": device_key.to_hex(),
            "device_public_key": public_hex,
        }
    else:
        if not (provision_in.device_public_key and provision_in.device_ephemeral_public_key):
            raise Problem(
                "validation-error",
                "device_public_key: sm2-agreement needs the device's static and ephemeral keys",
            )
        try:
            peer = crypto.SM2PublicKey.from_hex(provision_in.device_public_key)
            peer_ephemeral = crypto.SM2PublicKey.from_hex(provision_in.device_ephemeral_public_key)
        except crypto.CryptoError as exc:
            raise Problem("validation-error", f"device_public_key: {exc}") from exc
        exchange = crypto.SM2KeyExchange(keyring.platform_key, initiator=False)
        agreed = exchange.derive(peer, peer_ephemeral, length=16)
        master_secret = agreed.key
        public_hex = peer.to_hex()
        out |= {
            "device_public_key": public_hex,
            "platform_public_key": keyring.platform_key.public_key.to_hex(),
            "platform_ephemeral_public_key": exchange.ephemeral_public_key.to_hex(),
            "platform_confirmation": agreed.confirmation.hex(),
        }
    device.key_mode = provision_in.mode
    device.public_key_hex = public_hex
    device.master_secret_sealed = keyring.seal_master_secret(
        device.id, device.key_version, master_secret
    )
    device.provisioned_at = utcnow()
    device.rx_seq = -1
    device.tx_seq = 0
    session.flush()
    return ProvisionOut(**out)
