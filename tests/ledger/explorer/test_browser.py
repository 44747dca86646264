"""The explorer in headless Chromium: charts that are really drawn (pixels counted in
screenshots), and the integrity check's progress polled by the package's own script."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.browser import launch, needs_chromium
from tests.serving import serving

pytestmark = needs_chromium


COUNT_COLOURED = """async (b64) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
  }
  return n;
}"""


def coloured_pixels(counter, png: bytes) -> int:
    """Pixels of a chart's colours in a screenshot: saturated ones, not the white ground nor
    the grey axes and text. ``counter`` is a blank page that decodes the PNG on a canvas."""
    return counter.evaluate(COUNT_COLOURED, base64.b64encode(png).decode())


@pytest.fixture(scope="module")
def base(explorer_app, history) -> Iterator[str]:
    with serving(explorer_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def test_estate_charts_are_drawn_and_an_empty_one_is_not(base, browser, history):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    counter = browser.new_page()
    page.goto(f"{base}/explorer/estates/{history.platform.estate}")
    for figure in ("chart-balance", "chart-flows", "chart-common", "chart-credit"):
        shot = page.locator(f"#{figure} svg").screenshot()
        assert coloured_pixels(counter, shot) > 300, figure
    page.goto(f"{base}/explorer/estates/{history.other_estate}")
    assert page.locator("#chart-credit .chart-empty").count() == 1
    assert coloured_pixels(counter, page.locator("#chart-credit svg").screenshot()) == 0
    page.close()
    counter.close()


def test_integrity_check_shows_progress_then_the_result(base, browser):
    page = browser.new_page()
    page.goto(f"{base}/explorer/integrity")
    page.click("#start")
    page.wait_for_selector('#job[data-state="passed"]', timeout=60_000)
    assert "校验通过" in page.inner_text("#result")
    bar = page.locator("#progress")
    assert bar.get_attribute("value") is not None
    assert page.evaluate("document.getElementById('progress').value") == page.evaluate(
        "document.getElementById('progress').max"
    )
    page.close()
