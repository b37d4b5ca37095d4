"""Reading a Markdown context window back in tests: its blocks by header."""

from __future__ import annotations

import re


def heard_sections(markdown: str) -> list[tuple[str, str]]:
    """(header, text) of every heard block, in order."""
    parts = re.split(r"^(### .*)$", markdown, flags=re.M)
    return [(h, body.strip()) for h, body in zip(parts[1::2], parts[2::2]) if "heard" in h]
