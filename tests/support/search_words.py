"""Words for search tests: an ordinary vocabulary, and queries meant to break a search."""

from __future__ import annotations

WORDS = (
    "meeting notes budget report draft review commit branch merge deploy server client "
    "invoice payment receipt order shipping address customer support ticket priority "
    "python duckdb query index search token window context model screen record"
).split()

HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    "'",
    "'; DROP TABLE text_spans; --",
    "%",
    "_",
    "%_%",
    "\\",
    "a\\b",
    "(((",
    ")",
    "NOT AND OR",
    "*",
    "?",
    "$1",
    ":name",
    "\x00",
    "ünïcödé 日本語 😀",
    "-- comment",
    '"unterminated phrase',
    "x" * 5000,
    " ".join(["word"] * 500),
    "\n\t\r",
]
