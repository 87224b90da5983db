"""The moderators' page in Debian's Chromium, driven by Playwright, against a real uvicorn
server on 127.0.0.1 and a SQLite database seeded with held comments (tests/support/browser.py;
the `site` and `chromium` fixtures are tests/conftest.py's, shared with tests/security).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import ARTIFACTS


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
