"""A new third-party developer in headless Chromium: from the portal's front page to
working calls against the sandbox, following only what the portal shows.

Needs Debian's ``chromium`` at /usr/bin/chromium (``apt-get install chromium``);
Playwright drives it - no browser download.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser import launch, needs_chromium
from tests.sandbox.conftest import (  # noqa: F401 - fixtures used by name
    fast_password_hashing,
    live_with_chain,
    sandbox_chain,
)
from tests.sandbox.portal_flow import run_example

pytestmark = needs_chromium


@pytest.fixture
def live(request, monkeypatch):
    """The whole platform under uvicorn with a sandbox ledger, as in the sandbox tests."""
    fast_password_hashing(monkeypatch)
    return request.getfixturevalue("live_with_chain")


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def test_developer_goes_from_sign_up_to_working_calls_in_the_browser(live, page, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"failed {req.url}"))

    page.goto(f"{live.url}/developer")
    page.get_by_role("link", name="立即注册 / Sign up").click()
    page.get_by_label("用户名").fill("newcomer")
    page.get_by_label("名称或公司").fill("智慧停车科技")
    page.get_by_label("邮箱").fill("newcomer@example.com")
    page.get_by_label("密码").fill("a-good-password")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url("**/developer/apps")

    page.get_by_label("应用名称").fill("停车缴费小程序")
    page.get_by_label("类别").select_option("parking")
    page.get_by_role("button", name="创建并获取沙箱密钥").click()
    page.wait_for_selector("#client-secret")
    client_id = page.inner_text("#client-id")
    secret = page.inner_text("#client-secret")
    registration = page.input_value("#registration-token")
    page.locator("button.copy[data-copy='#client-secret']").click()
    # the handler awaits the clipboard before it answers: wait for its answer
    expect(page.locator("button.copy[data-copy='#client-secret']")).not_to_have_text("复制 / Copy")

    page.get_by_role("link", name="快速入门 Getting started").last.click()
    page.wait_for_url("**/developer/guide?app=*")
    assert page.inner_text("#guide-client-id") == client_id
    shown = {
        block.get_attribute("data-example"): (block.get_attribute("data-lang"), block.inner_text())
        for block in page.locator("pre.example").all()
    }
    env = {"CLIENT_SECRET": secret, "REGISTRATION_TOKEN": registration}
    estates = json.loads(run_example(*shown["estates"], env, tmp_path))
    assert estates["items"][0]["name"] == "沙箱示范小区（模拟数据）"
    order = json.loads(run_example(*shown["workorder"], env, tmp_path))
    assert order["status"] in ("open", "assigned")
    assert "True" in run_example(*shown["python"], env, tmp_path)
    assert json.loads(run_example(*shown["register"], env, tmp_path))["client_id"]
    assert json.loads(run_example(*shown["hpf"], env, tmp_path))["status"] == "normal"
    ledger = run_example(*shown["ledger"], env, tmp_path)  # the sandbox's vote and fund
    assert "已投 cast:" in ledger and "分户 accounts:" in ledger, ledger

    page.get_by_role("link", name="我的应用 My apps").click()
    page.get_by_role("link", name="停车缴费小程序").click()
    page.get_by_role("link", name="请求日志 Logs").click()
    rows = page.locator("#log tbody tr")
    assert rows.count() == 8
    assert "/api/v1/workorders" in page.inner_text("#log")
    assert secret not in page.content()

    page.get_by_role("link", name="用量 Usage").click()
    assert page.inner_text("#total") == "8"
    assert page.locator("#usage-chart rect").count() == 48

    page.get_by_role("link", name="密钥 Keys").click()
    page.get_by_label("回调地址").fill("https://park.example.com/callback")
    page.get_by_label("说明").fill("停车缴费")
    page.get_by_role("button", name="申请生产密钥").click()
    assert "审核中" in page.inner_text("#promotion-status")

    page.get_by_role("button", name="重置为初始数据").click()
    assert "沙箱已重置" in page.inner_text("[role=status]")
    assert errors == []


def test_api_reference_page_renders_in_the_browser(live, page):
    page.goto(f"{live.url}/developer/reference")
    assert page.locator("table.ops tr").count() > 40
    schema = page.locator("#schema-EstateOut pre")
    assert not schema.is_visible()
    page.locator("#schema-EstateOut summary").click()
    assert schema.is_visible() and '"latitude"' in schema.inner_text()
