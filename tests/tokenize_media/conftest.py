"""Fixtures for the tokenize_media tests. ASR fixtures are named ``asr_*`` (``asr_home`` and
``asr_speech``, shared with tests/ingest, are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from lifelog.tokenize_media.asr import asr_ids, get_asr
from tests.support.speech import asr_require


@pytest.fixture(scope="session", params=asr_ids())
def asr_engine(request, asr_home):
    """Every registered engine on this machine's best device, loaded once per session."""
    asr_require(request.param)
    return get_asr(request.param)
