"""Fixtures for store tests: real DuckDB files under tmp_path, no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifelog.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "lifelog.duckdb"


@pytest.fixture
def store(db_path: Path) -> Store:
    s = Store(db_path)
    s.migrate()
    return s
