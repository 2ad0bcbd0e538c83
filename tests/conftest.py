"""Shared fixtures: the shared data sets (fail, never skip, when missing)."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared(relative: str) -> Path:
    path = DATA / relative
    if not path.exists():
        pytest.fail(f"shared data missing: {path} (tests read ../shared/data beside the checkout)")
    return path


@pytest.fixture(scope="session")
def seed_headlines() -> list[str]:
    lines = shared("seed-feed/feed.txt").read_text(encoding="utf-8").splitlines()
    return [line[2:] for line in lines if line.startswith("- ")]
