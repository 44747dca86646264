"""Headless Chromium for page tests: Debian's /usr/bin/chromium driven by Playwright.

Never `playwright install`: the machine's own Chromium is used, and tests skip
with the reason shown where it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium needs /usr/bin/chromium (apt-get install chromium)",
)


def launch(playwright):  # noqa: ANN001, ANN201 - Playwright's own types
    """Chromium started the way every page test starts it."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=ARGS, headless=True, timeout=30_000
    )
