"""The device registry over HTTP: register, list, update, provision keys (shown once)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_tenant
from wuye import crypto
from wuye.adapters.devices.models import Device
from wuye.platform.db import Scope

PROBLEM = "application/problem+json"


@pytest.fixture
def tenant(database):
    return make_tenant(database)


@pytest.fixture
def auth(token_for, tenant):
    return token_for(tenant)


@pytest.fixture
def estate(client, auth):
    body = {"code": "DV", "name": "设备小区", "latitude": 30.27, "longitude": 120.15}
    r = client.post("/api/v1/estates", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def _device(client, auth, estate, code="WM-0001", **extra):
    body = {"estate_id": estate["id"], "code": code, "type": "water_meter"} | extra
    r = client.post("/api/v1/devices", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_registered_device_has_its_topics_and_the_estates_location(client, auth, estate, tenant):
    device = _device(client, auth, estate)
    assert device["telemetry_topic"] == f"wuye/{tenant}/{estate['id']}/WM-0001/telemetry"
    assert device["commands_topic"].endswith("/WM-0001/commands")
    assert (device["latitude"], device["longitude"]) == (30.27, 120.15)
    assert device["key_version"] == 0 and device["provisioned_at"] is None


def test_a_device_code_is_unique_within_the_firm(client, auth, estate):
    _device(client, auth, estate)
    r = client.post(
        "/api/v1/devices",
        json={"estate_id": estate["id"], "code": "WM-0001", "type": "power_meter"},
        headers=auth,
    )
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)


def test_an_unknown_type_or_vendor_is_a_validation_problem(client, auth, estate):
    r = client.post(
        "/api/v1/devices",
        json={"estate_id": estate["id"], "code": "X", "type": "toaster"},
        headers=auth,
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/devices",
        json={"estate_id": estate["id"], "code": "X", "type": "camera", "vendor": "acme"},
        headers=auth,
    )
    assert r.status_code == 422
    assert "acme" in r.json()["detail"]


def test_vendor_credentials_are_stored_sealed_and_never_returned(
    client, auth, estate, database, tenant
):
    device = _device(client, auth, estate, vendor_credentials={"api_secret": "s3cr3t-value"})
    assert device["has_vendor_credentials"] is True
    assert "s3cr3t-value" not in client.get(f"/api/v1/devices/{device['id']}", headers=auth).text
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.id == device["id"])).one()
        assert b"s3cr3t-value" not in row.vendor_credentials_sealed


def test_list_filters_by_estate_and_type(client, auth, estate):
    _device(client, auth, estate, code="A1")
    _device(client, auth, estate, code="B1", type="elevator")
    r = client.get("/api/v1/devices", params={"type": "elevator"}, headers=auth)
    assert [d["code"] for d in r.json()["items"]] == ["B1"]
    r = client.get(
        "/api/v1/devices", params={"estate_id": estate["id"], "sort": "code"}, headers=auth
    )
    assert [d["code"] for d in r.json()["items"]] == ["A1", "B1"]


def test_patch_disables_a_device(client, auth, estate):
    device = _device(client, auth, estate)
    r = client.patch(f"/api/v1/devices/{device['id']}", json={"status": "disabled"}, headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "disabled"


def test_psk_provisioning_shows_the_secrets_once_and_stores_them_sealed(
    client, auth, estate, database, tenant
):
    device = _device(client, auth, estate)
    r = client.post(f"/api/v1/devices/{device['id']}/provision", json={}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    out = r.json()
    secret = bytes.fromhex(out["master_secret"])
    key = crypto.SM2PrivateKey.from_hex(out["device_private_key"])
    assert len(secret) == 16 and key.public_key.to_hex() == out["device_public_key"]
    again = client.get(f"/api/v1/devices/{device['id']}", headers=auth).json()
    assert out["master_secret"] not in str(again) and again["key_version"] == 1
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.id == device["id"])).one()
        assert secret not in row.master_secret_sealed


def test_sm2_key_agreement_derives_the_same_key_on_both_sides_without_sending_it(
    client, auth, estate, database, tenant, settings
):
    from wuye.adapters.devices.keys import keyring_for_secret

    device = _device(client, auth, estate)
    device_key = crypto.SM2PrivateKey.generate()
    exchange = crypto.SM2KeyExchange(device_key, initiator=True)
    r = client.post(
        f"/api/v1/devices/{device['id']}/provision",
        json={
            "mode": "sm2-agreement",
            "device_public_key": device_key.public_key.to_hex(),
            "device_ephemeral_public_key": exchange.ephemeral_public_key.to_hex(),
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["master_secret"] is None and out["device_private_key"] is None
    agreed = exchange.derive(
        crypto.SM2PublicKey.from_hex(out["platform_public_key"]),
        crypto.SM2PublicKey.from_hex(out["platform_ephemeral_public_key"]),
        length=16,
    )
    agreed.verify_peer_confirmation(bytes.fromhex(out["platform_confirmation"]))
    keyring = keyring_for_secret(settings.secret_bytes())
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.id == device["id"])).one()
        stored = keyring.open_master_secret(row.id, row.key_version, row.master_secret_sealed)
    assert stored == agreed.key


def test_key_agreement_without_the_devices_keys_is_a_validation_problem(client, auth, estate):
    device = _device(client, auth, estate)
    r = client.post(
        f"/api/v1/devices/{device['id']}/provision", json={"mode": "sm2-agreement"}, headers=auth
    )
    assert r.status_code == 422


def test_devices_need_the_devices_scopes(client, token_for, tenant, estate):
    r = client.get("/api/v1/devices", headers=token_for(tenant, "estates:read"))
    assert r.status_code == 403 and "devices:read" in r.json()["detail"]
