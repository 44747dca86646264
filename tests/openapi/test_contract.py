"""The published OpenAPI contract: the live document may only change compatibly
within a major version, and every change is recorded in the committed snapshot."""

from __future__ import annotations

import copy

import pytest
from openapi_spec_validator import validate

from wuye.openapi import compat, contract
from wuye.openapi.views import live_document

HOW_TO_REFRESH = (
    f"run `{contract.REFRESH_COMMAND}` (compatible additions) or "
    f"`{contract.REFRESH_COMMAND} --bump major` (breaking changes), then commit "
    "wuye/openapi/contract/"
)


@pytest.fixture(scope="module")
def live() -> dict:
    return live_document()


def test_live_document_is_valid_openapi_3_1(live):
    assert live["openapi"].startswith("3.1")
    validate(live)


def test_live_document_breaks_nothing_published_in_its_major_version(live):
    published = contract.load_snapshot()
    assert published is not None, HOW_TO_REFRESH
    assert contract.major(live["info"]["x-contract-version"]) == contract.major(
        published["info"]["x-contract-version"]
    )
    problems = compat.breaking_changes(published, live)
    assert not problems, "incompatible API changes:\n" + "\n".join(problems) + "\n" + HOW_TO_REFRESH


def test_committed_snapshot_matches_live_document(live):
    published = contract.load_snapshot()
    assert not compat.differs(published, live), (
        "the API changed compatibly but the snapshot is stale: " + HOW_TO_REFRESH
    )


def test_changelog_has_an_entry_for_the_current_version():
    assert f"## {contract.contract_version()} " in contract.CHANGELOG.read_text()


# --- the compatibility rules themselves, on a small document ----------------------------

BASE = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things": {
            "post": {
                "parameters": [
                    {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ThingIn"}}
                    },
                },
                "responses": {
                    "201": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ThingOut"}
                            }
                        }
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "ThingIn": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "size": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "kind": {"enum": ["a", "b"]},
                },
            },
            "ThingOut": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
        }
    },
}


def _changed(edit) -> list[str]:
    new = copy.deepcopy(BASE)
    edit(new)
    return compat.breaking_changes(BASE, new)


def test_identical_documents_are_compatible():
    assert compat.breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_new_optional_request_field_and_new_response_field_are_compatible():
    def edit(doc):
        schemas = doc["components"]["schemas"]
        schemas["ThingIn"]["properties"]["colour"] = {"type": "string"}
        schemas["ThingOut"]["properties"]["colour"] = {"type": "string"}
        doc["paths"]["/more"] = {"get": {"responses": {}}}

    assert _changed(edit) == []


def test_removed_operation_breaks():
    assert any(
        "operation removed" in p for p in _changed(lambda d: d["paths"]["/things"].pop("post"))
    )


def test_removed_path_breaks():
    assert any("path removed" in p for p in _changed(lambda d: d["paths"].pop("/things")))


def test_new_required_request_field_breaks():
    def edit(doc):
        thing = doc["components"]["schemas"]["ThingIn"]
        thing["properties"]["colour"] = {"type": "string"}
        thing["required"].append("colour")

    assert any("colour: newly required" in p for p in _changed(edit))


def test_parameter_becoming_required_breaks():
    def edit(doc):
        doc["paths"]["/things"]["post"]["parameters"][0]["required"] = True

    assert any("parameter became required" in p for p in _changed(edit))


def test_narrowed_request_type_breaks():
    def edit(doc):
        doc["components"]["schemas"]["ThingIn"]["properties"]["size"] = {"type": "integer"}

    assert any("size: request type narrowed" in p for p in _changed(edit))


def test_narrowed_request_enum_breaks():
    def edit(doc):
        doc["components"]["schemas"]["ThingIn"]["properties"]["kind"] = {"enum": ["a"]}

    assert any("no longer accepted: b" in p for p in _changed(edit))


def test_removed_response_field_breaks():
    def edit(doc):
        out = doc["components"]["schemas"]["ThingOut"]
        out["properties"].pop("name")
        out["required"].remove("name")

    assert any("name: response field removed" in p for p in _changed(edit))


def test_widened_response_type_breaks():
    def edit(doc):
        doc["components"]["schemas"]["ThingOut"]["properties"]["id"] = {"type": ["string", "null"]}

    assert any("id: response type widened" in p for p in _changed(edit))


def test_refresh_refuses_breaking_change_without_major_bump(monkeypatch, tmp_path):
    for name in ("VERSION_FILE", "CHANGELOG"):
        monkeypatch.setattr(contract, name, tmp_path / getattr(contract, name).name)
    monkeypatch.setattr(contract, "HERE", tmp_path)
    contract.VERSION_FILE.write_text("1.0.0\n")
    assert contract.refresh(BASE, today="2026-01-01")[0] == "1.0.0"
    broken = copy.deepcopy(BASE)
    broken["paths"].pop("/things")
    with pytest.raises(contract.IncompatibleChange):
        contract.refresh(broken)
    version, lines = contract.refresh(broken, bump="major", today="2026-01-02")
    assert version == "2.0.0"
    assert (tmp_path / "openapi-v2.json").exists()
    assert "## 2.0.0 — 2026-01-02" in contract.CHANGELOG.read_text()
    assert any("breaking" in line for line in lines)
