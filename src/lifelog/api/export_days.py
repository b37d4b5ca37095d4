"""An export stream (``timeline.export_jsonl``: lifelog JSONL, from the owner's socket or the
file) cut into UTC days: the common ground of the Parquet and Markdown exports.

A row belongs to the UTC day its start falls in (``t_start``, an event's ``ts``). The stream
comes in time order, so the days come one after another, each whole before the next begins.
Lines stay bytes (lifelog writes them, and the Parquet writer reads them as they are); only
the type and the day are read, from the line's start when it has the shape lifelog writes and
with the full JSON reader otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from lifelog.api.jsonl import KINDS, check_header, parse_row
from lifelog.errors import BadLine, LifelogError

# How lifelog writes each kind's line (jsonl.row_line): its day is the 10 characters after this.
_PREFIXES = {
    ord(kind[0]): (kind, prefix, len(prefix))
    for kind, prefix in (
        ("seen", b'{"type":"seen","t_start":"'),
        ("heard", b'{"type":"heard","t_start":"'),
        ("event", b'{"type":"event","ts":"'),
    )
}
_TYPE = b'{"type":"'
_days: dict[bytes, date] = {}  # 2026-11-29 as bytes -> the date: one parse per day, not per line


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream's lines (each without its newline; blank lines skipped), the header checked
    and left out."""
    rest = b""
    header = False
    for chunk in chunks:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for line in parts:
            if not line.strip():
                continue
            if not header:
                _header(line)
                header = True
                continue
            yield line
    if rest.strip():
        if not header:
            _header(rest)
        else:
            yield rest


def kind_and_day(line: bytes) -> tuple[str, date | None]:
    """``("seen", 2026-11-29)`` for a row line; ``(kind, None)`` for a row that is no line of the
    timeline (a digest, a lesson, a type of a later lifelog)."""
    known = _PREFIXES.get(line[9]) if line.startswith(_TYPE) and len(line) > 40 else None
    if known and line.startswith(known[1]) and line[known[2] + 10] == 84:  # 84: "T"
        key = line[known[2] : known[2] + 10]
        day = _days.get(key)
        if day is None:
            try:
                day = _days[key] = date.fromisoformat(key.decode("ascii"))
            except ValueError:
                day = None
        if day is not None:
            return known[0], day
    try:
        kind, row = parse_row(_decode(line))
    except BadLine as exc:
        raise LifelogError(f"The export stream holds a bad row: it {exc}.") from None
    return kind, row[0].date() if kind in KINDS else None


def days(chunks: Iterable[bytes]) -> Iterator[tuple[date, dict[str, list[bytes]]]]:
    """``(day, {kind: lines})`` per UTC day with rows, in order (the timeline's lines: digests and
    lessons are left out)."""
    current: date | None = None
    rows: dict[str, list[bytes]] = {k: [] for k in KINDS}
    for line in lines(chunks):
        kind, day = kind_and_day(line)
        if day is None:
            continue
        if day != current:
            if current is not None:
                if day < current:
                    raise LifelogError(f"The export stream went back in time ({day} after {current}); export again.")
                yield current, rows
                rows = {k: [] for k in KINDS}
            current = day
        rows[kind].append(line)
    if current is not None:
        yield current, rows


def _header(line: bytes) -> None:
    try:
        check_header(_decode(line))
    except BadLine as exc:
        raise LifelogError(f"The export stream's first line {exc}.") from None


def _decode(line: bytes):
    import json

    try:
        return json.loads(line)
    except ValueError:
        raise BadLine("is not JSON") from None
