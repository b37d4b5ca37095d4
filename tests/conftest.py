from __future__ import annotations

import pytest

from lifelog.paths import Paths
from lifelog.store import Store
from tests.support.xscreen import XScreen


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


@pytest.fixture
def pipeline_home(tmp_path):
    """``(paths, store)``: a fresh LIFELOG_HOME with its folders and a migrated database."""
    paths = Paths(tmp_path / "home").ensure()
    store = Store(paths.db)
    store.migrate()
    return paths, store


@pytest.fixture(scope="session")
def asr_home(tmp_path_factory):
    """A LIFELOG_HOME for the whole session, so converted checkpoints never land in the user's cache."""
    home = tmp_path_factory.mktemp("asr-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIFELOG_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def asr_speech(tmp_path_factory):
    """``(text, samples)``: the short reference text and its espeak-ng speech as 16 kHz samples,
    with 0.5 s of silence either side as a microphone would record it (tiny.en mishears a first
    word that starts at sample 0)."""
    from lifelog.tokenize_media.asr.base import SAMPLE_RATE
    from tests.support.speech import SHORT, have_espeak, place, speech_samples

    if not have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    text = " ".join(SHORT)
    speech = speech_samples(text, tmp_path_factory.mktemp("asr-speech"))
    return text, place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)
