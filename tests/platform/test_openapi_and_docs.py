"""The published contract validates as OpenAPI 3.1, and its docs need no internet."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator


@pytest.fixture
def sqlite_client(settings, sqlite_database):
    from fastapi.testclient import TestClient

    from wuye.platform.app import create_app

    with TestClient(create_app(settings, sqlite_database)) as client:
        yield client


def test_openapi_document_is_valid_openapi_3_1(sqlite_client):
    doc = sqlite_client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_every_api_operation_says_what_it_does_in_chinese_and_english(sqlite_client):
    doc = sqlite_client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/v1/estates"):
            continue
        for method, op in ops.items():
            assert re.search(r"[\u4e00-\u9fff]", op["summary"]), (method, path)
            assert "/" in op["summary"], (method, path)


def test_docs_page_loads_only_assets_served_by_the_platform(sqlite_client):
    html = sqlite_client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert assets
    for asset in assets:
        assert not re.match(r"https?://", asset), f"external asset {asset}"
        assert sqlite_client.get(asset).status_code == 200, asset


def test_swagger_ui_is_a_version_that_renders_openapi_3_1(sqlite_client):
    js = sqlite_client.get("/static/docs/swagger-ui-bundle.js").text
    assert "oas/3.1" in js


def test_home_page_is_chinese_first(sqlite_client):
    page = sqlite_client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "物业开放平台" in page.text


def test_problem_types_resolve_to_a_page(sqlite_client):
    r = sqlite_client.get("/api/v1/estates")
    assert sqlite_client.get(r.json()["type"]).status_code == 200
