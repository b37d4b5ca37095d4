"""A whole timeline to and from a JSONL file (the format: ``jsonl.py``), for the facade.

Export streams: rows are read from the store a window at a time in one snapshot
(``store.exchange.RowStream``) and leave as chunks of lines, so a year costs no more memory
than a day; the range's digests and lessons (a few per hour at most) are read in the same
snapshot and follow them. Import reads the file twice: once to check every line (nothing is stored if one is
bad), then again to merge it in short slices, taken back whole if one fails (``import_slices.py``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lifelog.api.jsonl import KINDS, MEMORY, TYPES, header_line, read_rows, row_line, validate

if TYPE_CHECKING:
    from lifelog.store import Store
    from lifelog.tokenize_media.redact import Redactor

CHUNK_BYTES = 256 * 1024  # an export leaves in chunks of about this size


@dataclass
class Export:
    """An export under way: ``rows`` (how many of each kind, known before the first line),
    ``chunks`` (the file's bytes, header first). Call ``close()`` when done, read or not."""

    rows: dict[str, int]
    chunks: Iterator[bytes]
    close: Callable[[], None] = field(repr=False)


def export_jsonl(
    store: Store, since: datetime | None, until: datetime | None, now: Callable[[], datetime] | None = None
) -> Export:
    stack = contextlib.ExitStack()
    try:
        reader = stack.enter_context(store.read())
        stream = reader.timeline_rows(since, until)
        stack.callback(stream.close)
        made = reader.memory_rows(since, until)  # in the stream's snapshot
    except BaseException:
        stack.close()
        raise
    exported = (now or _utcnow)()
    counts = dict(stream.counts)
    for kind in MEMORY:  # written only when there are any: a file without them is as before
        if n := sum(k == kind for k, _ in made):
            counts[kind] = n
    head = header_line(counts, since, until, exported)

    def chunks() -> Generator[bytes, None, None]:
        try:
            lines, size = [head], len(head)
            for kind, row in itertools.chain(stream, made):
                line = row_line(kind, row)
                lines.append(line)
                size += len(line)
                if size >= CHUNK_BYTES:
                    yield "".join(lines).encode("utf-8")
                    lines, size = [], 0
            if lines:
                yield "".join(lines).encode("utf-8")
        finally:
            stack.close()

    gen = chunks()

    def close() -> None:
        gen.close()
        stack.close()

    return Export(counts, gen, close)


def import_jsonl(store: Store, path, name: str, redactor: Redactor | None = None) -> dict:
    """Check the file at ``path`` (``name`` in messages), then merge it into ``store`` in
    short slices taken back whole if one fails (``import_slices.py``), secrets in its text
    redacted first (``redactor``, else the built-in patterns); returns the report (rows read,
    inserted and skipped as duplicates, per kind)."""
    from lifelog.api.import_slices import SliceSize, publish, take_back_abandoned
    from lifelog.tokenize_media.redact import default

    redactor = redactor or default()
    started = time.monotonic()
    header, read = validate(path, name)
    checked = time.monotonic()
    take_back_abandoned(store)  # an import a crash cut short goes first (idempotent: this one may hold it)
    size = SliceSize()
    inserted = publish(store, _slices(path, name, redactor, size), size)
    stale = inserted.pop("stale", 0)
    seconds = time.monotonic() - started
    total = sum(read.values())
    known = [k for k in TYPES if k in read]
    return {
        "file": name,
        "format": "jsonl",
        "version": header["version"],
        "read": {k: read[k] for k in known},
        "inserted": {k: inserted.get(k, 0) for k in known},
        "duplicates": {k: read[k] - inserted.get(k, 0) - (stale if k == "digest" else 0) for k in known},
        **({"stale_digests": stale} if "digest" in read else {}),
        **({"skipped": {k: n for k, n in read.items() if k not in TYPES}} if set(read) - set(TYPES) else {}),
        "seconds": round(seconds, 2),
        "check_seconds": round(checked - started, 2),
        "rows_per_s": round(total / seconds) if seconds > 0 else None,
        "slices": size.slices,
        "slowest_slice_s": round(size.slowest_s, 3),
    }


def _slices(path, name: str, redactor: Redactor, size) -> Iterator[tuple[str, list[tuple]]]:
    """``(kind, rows)`` of the file, redacted, ``size.rows`` rows of one kind at a time; the
    digests, then the lessons, last, once every line is in (types this lifelog does not know
    are skipped)."""
    pending: dict[str, list[tuple]] = {k: [] for k in TYPES}
    for _, kind, row in read_rows(path, name):
        if kind not in pending:
            continue
        pending[kind].append(redact_row(redactor, kind, row))
        if kind in KINDS and len(pending[kind]) >= size.rows:
            yield kind, pending[kind]
            pending[kind] = []
    for kind, rows in pending.items():
        if rows:
            yield kind, rows


def redact_row(redactor: Redactor, kind: str, row: tuple) -> tuple:
    """An imported row with secrets in its text (and a seen row's window title, an event's
    detail) replaced by their markers."""
    if kind == "seen":
        return (*row[:4], redactor.redact(row[4])[0], redactor.redact(row[5])[0], *row[6:])
    if kind == "heard":
        return (*row[:4], redactor.redact(row[4])[0], *row[5:])
    if kind == "digest":
        return (*row[:3], redactor.redact(row[3])[0], _redact_json(redactor, row[4]), *row[5:])
    if kind == "lesson":
        return (*row[:2], redactor.redact(row[2])[0], _redact_json(redactor, row[3]), row[4])
    if row[2] is None:
        return row
    detail = json.dumps(redactor.redact_json(json.loads(row[2])), default=str)
    return row if detail == row[2] else (*row[:2], detail)


def _redact_json(redactor: Redactor, text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(redactor.redact_json(json.loads(text)), ensure_ascii=False, default=str)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
