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
