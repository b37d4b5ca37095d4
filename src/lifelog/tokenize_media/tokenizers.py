"""Exact token counts for target model families, offline (quicktok bundles the vocabularies).

A tokenizer has a string id and one essential method, ``count``; ``count_many`` derives from
the encoder's batch API. Ids name an encoding or a model family.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lifelog.errors import UnknownEngine

# id -> quicktok encoding name
_ENCODINGS = {
    "o200k": "o200k_base",
    "gpt-4o": "o200k_base",
    "cl100k": "cl100k_base",
    "gpt-4": "cl100k_base",
    "llama3": "llama3",
    "qwen3": "qwen3",
}
DEFAULT_TOKENIZER = "o200k"


@dataclass(frozen=True)
class Tokenizer:
    id: str
    encoding: str

    def _enc(self):
        import quicktok

        return quicktok.get_encoding(self.encoding)

    def count(self, text: str) -> int:
        return len(self._enc().encode(text))

    def count_many(self, texts: list[str]) -> list[int]:
        import quicktok

        if not texts:
            return []
        return [int(n) for n in quicktok.count_batch(self._enc(), texts)]


def tokenizer_ids() -> list[str]:
    return sorted(_ENCODINGS)


@lru_cache(maxsize=None)
def get_tokenizer(tokenizer_id: str = DEFAULT_TOKENIZER) -> Tokenizer:
    key = tokenizer_id.lower()
    if key not in _ENCODINGS:
        raise UnknownEngine("tokenizer", tokenizer_id, tokenizer_ids())
    return Tokenizer(key, _ENCODINGS[key])
