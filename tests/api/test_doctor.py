"""``lifelog doctor``'s tokenizer check names what it counts with, exact or approximate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lifelog.api.doctor import _check, _tokenizer
from lifelog.config import Settings


@pytest.mark.parametrize(("tokenizer", "named"), [("o200k", "o200k_base"), ("claude-approx", "an upper bound, 1.35x")])
def test_the_tokenizer_check_passes_for_exact_and_approximate_tokenizers(tokenizer, named):
    result = _check("tokenizer", lambda: _tokenizer(replace(Settings(), tokenizer=tokenizer)))
    assert result["status"] == "ok", result
    assert result["detail"].startswith(f"{tokenizer} (") and named in result["detail"]
    assert "'hello world' = " in result["detail"]


@pytest.mark.parametrize("on", [True, False])
def test_the_speakers_check_loads_the_bundled_model_or_says_it_is_off(on):
    from lifelog.api.doctor import _speakers

    result = _check("speakers", lambda: _speakers(replace(Settings(), speakers=on)))
    assert result["status"] == "ok", result
    assert ("CAM++" in result["detail"] and "MB, bundled" in result["detail"]) if on else "off" in result["detail"]
