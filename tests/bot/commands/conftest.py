"""Every command reads settings and the encryption key afresh, and leaves none behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import get_settings
from storage import crypto


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    crypto.configure(None)
