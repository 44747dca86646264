"""Device commands over HTTP: send one, list and follow it."""

from __future__ import annotations

import pytest

from tests.factories import make_tenant

PROBLEM = "application/problem+json"


@pytest.fixture
def auth(token_for, database):
    return token_for(make_tenant(database))


@pytest.fixture
def device(client, auth):
    estate = client.post("/api/v1/estates", json={"code": "CM", "name": "指令小区"}, headers=auth)
    body = {"estate_id": estate.json()["id"], "code": "GATE-1", "type": "barrier_gate"}
    r = client.post("/api/v1/devices", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def _provision(client, auth, device):
    r = client.post(f"/api/v1/devices/{device['id']}/provision", json={}, headers=auth)
    assert r.status_code == 200, r.text


def test_a_command_is_queued_and_can_be_followed(client, auth, device):
    _provision(client, auth, device)
    r = client.post(f"/api/v1/devices/{device['id']}/commands", json={"name": "open"}, headers=auth)
    assert r.status_code == 201, r.text
    command = r.json()
    assert (command["status"], command["name"], command["seq"]) == ("queued", "open", None)
    listed = client.get("/api/v1/commands", params={"device_id": device["id"]}, headers=auth)
    assert [c["id"] for c in listed.json()["items"]] == [command["id"]]
    got = client.get(f"/api/v1/commands/{command['id']}", headers=auth).json()
    assert got["status"] == "queued"


def test_a_command_to_a_device_without_keys_is_a_conflict(client, auth, device):
    r = client.post(f"/api/v1/devices/{device['id']}/commands", json={"name": "open"}, headers=auth)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)


def test_a_command_the_device_does_not_know_is_a_validation_problem(client, auth, device):
    _provision(client, auth, device)
    r = client.post(
        f"/api/v1/devices/{device['id']}/commands", json={"name": "set_speed"}, headers=auth
    )
    assert r.status_code == 422
    assert "barrier_gate accepts" in r.json()["detail"]
