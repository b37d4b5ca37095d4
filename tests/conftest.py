from __future__ import annotations

import pytest

from tests.xscreen import XScreen


@pytest.fixture(scope="session")
def xscreen():
    screen = XScreen()
    yield screen
    screen.stop()


@pytest.fixture
def screen(xscreen, monkeypatch):
    """The session's X screen as DISPLAY, with no windows left over from other tests."""
    monkeypatch.setenv("DISPLAY", xscreen.display)
    yield xscreen
    xscreen.close_windows()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private LIFELOG_HOME for one test."""
    h = tmp_path / "home"
    monkeypatch.setenv("LIFELOG_HOME", str(h))
    return h
