"""lifelog's timeline as JSON Lines: a documented, versioned format for moving timelines
between machines (``lifelog export --format jsonl``, ``lifelog import FILE.jsonl``).

Format version 1
----------------
UTF-8, one JSON object per line, lines end with ``\\n``. The first line is a header; every
other line is one row: text seen (``seen``), text heard (``heard``) or an event (``event``),
then, optional, the range's digests (``digest``) and lessons (``lesson``)::

    {"lifelog":"timeline","version":1,"exported":"2026-11-29T09:00:00Z","since":null,"until":null,"rows":{"seen":1,"heard":1,"event":1}}
    {"type":"seen","t_start":"2026-11-24T10:01:40.5Z","t_end":"2026-11-24T10:03:02Z","monitor":0,"app":"firefox","window":"Reports — Mozilla Firefox","top":112,"left":40,"text":"Weekly report: due Friday 15:00"}
    {"type":"heard","t_start":"2026-11-24T10:02:13Z","t_end":"2026-11-24T10:02:17.25Z","source":"system","engine":"faster-whisper","text":"Remember to send the weekly report."}
    {"type":"event","ts":"2026-11-24T10:30:00Z","kind":"pause","detail":{"seconds":1800}}
    {"type":"digest","level":"hour","start":"2026-11-24T10:00:00Z","end":"2026-11-24T11:00:00Z","model":"extractive","basis":"5f1c…","made_at":"2026-11-24T11:06:00Z","text":"windows: firefox — Reports (2 min)\\n- 10:01 firefox: Weekly report: due Friday 15:00","sources":{"lines":[…]}}
    {"type":"lesson","created":"2026-11-24T12:00:00Z","updated":"2026-11-24T12:00:00Z","model":"","text":"Send the weekly report before Friday 15:00.","sources":[]}

Header: ``lifelog`` is ``"timeline"``; ``version`` the format version (an integer); then,
optional, ``exported`` (when), ``since``/``until`` (the range asked for, null for open) and
``rows`` (how many rows of each type follow, a type with none left out or 0: an importer refuses
a file holding other counts, which is how a file cut short is caught).

Rows (``*`` = required; the others default as shown):

* ``seen``: a line of text on screen and the time it stayed visible. ``t_start``\\*,
  ``t_end``\\*, ``text``\\* (string), ``monitor`` (0), ``app`` (""), ``window`` (the window
  title, ""), ``top``/``left`` (its position in pixels, 0), ``ord`` (its place in reading order
  among the lines first seen with it, 0) and ``lead`` (what goes before its text when shown: a
  newline before a new block, ``# `` before a heading, indentation; ""), both left out when empty.
* ``heard``: a stretch of speech. ``t_start``\\*, ``t_end``\\*, ``source``\\* (``mic``,
  ``system``, ``file``, ...), ``text``\\*, ``engine`` (the ASR engine, ""), ``language``
  (Whisper's code of the language heard, ``zh``, ``en``, ...: ISO 639-1 where one exists;
  written only when known, ""), ``speaker`` (who spoke: a voice's name, ``me``, or ``Speaker
  N``; written only when told, ""; merged, a name becomes a voice of that name).
* ``event``: something that happened at one moment (``record_start``, ``pause``, ``gap``,
  ``ask``, ...). ``ts``\\*, ``kind``\\* (string), ``detail`` (an object, ``{}``).
* ``digest`` (optional): a short account of an hour, day or week (``replay/digest.py``).
  ``level``\\* (``hour``, ``day``, ``week``), ``start``\\*, ``end``\\*, ``text``\\*, ``basis``\\* (an
  opaque fingerprint of what it was made from), ``model`` (who wrote it, ``extractive``),
  ``made_at`` (when; written when known), ``sources`` (an object: the lines chosen with their
  moments, ``{}``).
* ``lesson`` (optional): a note for next time (``lessons``). ``text``\\* (one line, at most 500
  characters), ``created``\\*, ``updated`` (``created``), ``model`` (the model that wrote it, ""
  by hand), ``sources`` (a list of objects: the moments it came from, ``[]``).

Times are ISO-8601 with a zone; lifelog writes UTC with ``Z`` and microseconds when they are
not zero. Integers are JSON integers. Rows come in time order (``t_start``/``ts``, then
seen before heard before events, then by content), then the digests that start in the range (by
start, hour before day before week) and the lessons made in it (by ``created``, then text), so
the same timeline always gives the same lines; an importer takes them in any order. Blank lines
are ignored, and so are fields and row types an importer does not know (a row whose ``type`` is
another string is counted and skipped): a later lifelog may add optional fields and row types
within version 1. Anything an older importer would misread gets a new version number, which
this lifelog refuses by name. (lifelog before digests and lessons travelled refused unknown row
types: it imports a file of this lifelog only without them.)

Importing merges: a row already in the timeline (a span with the same ``t_start``, monitor,
app, window, text and position; a transcript with the same ``t_start``, source and text; an
event with the same ``ts``, kind and detail) or earlier in the file is skipped, so importing a
file twice adds nothing and two machines' exports combine. The whole file is checked before
anything is stored (an error names the line; a line over 1 MiB is refused), then stored all or
nothing: in one transaction, or through an owner in short slices that are all taken back if one
fails (``import_slices.py``). Not carried:
frame images, audio, ids; imported spans are closed (a recorder never extends them), and
transcripts' token counts are counted again on import.

Digests and lessons merge after the file's lines. A lesson whose text (spaces folded) is kept
already, or came earlier in the file, is skipped. A digest is a summary of what the timeline
holds, so it is kept only where it still says what the merged timeline holds: its ``basis``
must equal the one this timeline now has for its range (an hour's lines as merged; a day's or
week's digests one level below as they now are) with its writer's mark, and no digest of its
level and start that matches is there already; otherwise it is counted as stale and left out,
and the digester makes that range's digest again from the lines. Two machines' exports of the
same hours keep the first digest; an hour both machines recorded is digested anew.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeGuard

from lifelog.errors import BadLine, UsageError

FORMAT = "timeline"
VERSION = 1
KINDS = ("seen", "heard", "event")  # the timeline's rows (what Parquet and Markdown exports carry)
MEMORY = ("digest", "lesson")  # optional rows after them: what was made of the timeline
TYPES = KINDS + MEMORY
LEVELS = ("hour", "day", "week")  # a digest's (store/digests.py)
LESSON_CHARS = 500  # a lesson's longest text (store/lessons.py)
MEDIA_TYPE = "application/x-ndjson"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_decode = json.JSONDecoder().decode
_fromiso = datetime.fromisoformat
_INT32 = 2**31
MAX_LINE_BYTES = 2**20  # a longer line is refused: no row lifelog writes comes near it
MAX_DETAIL_DEPTH = 32  # objects and lists inside an event's detail; deeper is no event lifelog writes


# -- writing -----------------------------------------------------------------------------


def iso(ts: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO-8601 with ``Z``."""
    return None if ts is None else ts.isoformat() + "Z"


def header_line(rows: dict[str, int], since: datetime | None, until: datetime | None, exported: datetime) -> str:
    return (
        _encode(
            {
                "lifelog": FORMAT,
                "version": VERSION,
                "exported": iso(exported.replace(microsecond=0)),
                "since": iso(since),
                "until": iso(until),
                "rows": rows,
            }
        )
        + "\n"
    )


def row_line(kind: str, row: tuple) -> str:
    """One stored row (``store.exchange``'s tuples) as a line."""
    if kind == "seen":
        t_start, t_end, monitor, app, window, text, top, left, *shown = row
        order, lead = (shown[0], shown[1]) if len(shown) > 1 else (0, "")
        obj = {
            "type": kind,
            "t_start": iso(t_start),
            "t_end": iso(t_end),
            "monitor": monitor,
            "app": app,
            "window": window,
            "top": top,
            "left": left,
            **({"ord": order} if order else {}),
            **({"lead": lead} if lead else {}),
            "text": text,
        }
    elif kind == "heard":
        t_start, t_end, source, engine, text, *rest = row
        language = rest[0] if rest else ""
        speaker = rest[1] if len(rest) > 1 else ""
        obj = {
            "type": kind,
            "t_start": iso(t_start),
            "t_end": iso(t_end),
            "source": source,
            "engine": engine,
            **({"language": language} if language else {}),
            **({"speaker": speaker} if speaker else {}),
            "text": text,
        }
    elif kind == "event":
        ts, event_kind, detail = row
        obj = {"type": kind, "ts": iso(ts), "kind": event_kind, "detail": stored_detail(detail)}
    else:
        obj = _memory_obj(kind, row)
    return _encode(obj) + "\n"


def _memory_obj(kind: str, row: tuple) -> dict:
    if kind == "digest":
        level, start, end, text, sources, model, basis, made_at = row
        return {
            "type": kind,
            "level": level,
            "start": iso(start),
            "end": iso(end),
            "model": model,
            "basis": basis,
            **({"made_at": iso(made_at)} if made_at else {}),
            "text": text,
            "sources": stored_detail(sources),
        }
    created, updated, text, sources, model = row
    return {
        "type": kind,
        "created": iso(created),
        "updated": iso(updated),
        "model": model,
        "text": text,
        "sources": json.loads(sources, parse_constant=lambda _: None) if sources else [],
    }


def stored_detail(text: str | None) -> dict:
    """A stored event detail as an object JSON can carry: NaN and Infinity (stored before they
    were refused, or by an older lifelog) become null, so an export is always valid JSON."""
    if not text:
        return {}
    return json.loads(text, parse_constant=lambda _: None, parse_float=_finite_or_none)


def _finite_or_none(text: str) -> float | None:
    number = float(text)  # 1e400 is inf
    return number if math.isfinite(number) else None


# -- reading -----------------------------------------------------------------------------


def read_rows(path, name: str) -> Iterator[tuple[int, str, tuple]]:
    """``(line number, kind, row)`` for every row of the file at ``path`` (``name`` in
    messages), after checking its header. Raises UsageError naming the first bad line."""
    header = None
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(_lines(fh), 1):
            if not raw.strip():
                continue
            try:
                obj = _json(raw)
                if header is None:
                    header = check_header(obj)
                    continue
                yield lineno, *parse_row(obj)
            except BadLine as exc:
                raise UsageError(f"Cannot import {name}: line {lineno} {exc}. Nothing was imported.") from None
    if header is None:
        raise UsageError(
            f"Cannot import {name}: it is empty (a lifelog JSONL file starts with a header line "
            f'such as {{"lifelog":"timeline","version":{VERSION}}}). Nothing was imported.'
        )


def validate(path, name: str) -> tuple[dict, dict[str, int]]:
    """Read the whole file once: its header and how many rows of each type it holds (the
    timeline's three always, others when there are any; a type this lifelog does not know is
    counted too, and skipped on import). Raises UsageError for the first bad line, or when the
    counts differ from the header's."""
    counts = dict.fromkeys(KINDS, 0)
    for _, kind, _ in read_rows(path, name):
        counts[kind] = counts.get(kind, 0) + 1
    header = _read_header(path)
    promised = header.get("rows")
    if promised is not None and any(promised.get(k, 0) != counts.get(k, 0) for k in {*promised, *counts}):
        raise UsageError(
            f"Cannot import {name}: its header promises {_counted(promised)} but it holds {_counted(counts)}, so "
            "it is incomplete (cut short while it was written or copied) or was edited. Export it again. "
            "Nothing was imported."
        )
    return header, counts


def _read_header(path) -> dict:
    with open(path, "rb") as fh:
        for raw in _lines(fh):
            if raw.strip():
                return check_header(_json(raw))
    return {}


def _lines(fh) -> Iterator[bytes]:
    """The file's lines, read at most :data:`MAX_LINE_BYTES` and a newline at a time, so one
    endless line never fills memory (:func:`_json` refuses the piece)."""
    return iter(lambda: fh.readline(MAX_LINE_BYTES + 1), b"")


def check_header(obj) -> dict:
    if not isinstance(obj, dict) or obj.get("lifelog") != FORMAT:
        raise BadLine(
            f'is not a lifelog timeline header (a JSONL export starts with {{"lifelog":"timeline",'
            f'"version":{VERSION},...}})'
        )
    version = obj.get("version")
    if not _is_int(version) or version < 1:
        raise BadLine(f"has a bad format version {_short(version)} (an integer, e.g. {VERSION})")
    if version > VERSION:
        raise BadLine(
            f"is in timeline format version {version}, newer than this lifelog reads ({VERSION}); "
            "upgrade lifelog to import it"
        )
    rows = obj.get("rows")
    if rows is not None and not (isinstance(rows, dict) and all(_is_int(v) and v >= 0 for v in rows.values())):
        raise BadLine('has bad "rows" (an object of counts per type: seen, heard, event, ...)')
    return obj


_REQUIRED = object()


def _time(value, field: str) -> datetime:
    if type(value) is str:
        try:
            if value[-1:] == "Z":  # what lifelog writes: parsed without a zone object
                ts = _fromiso(value[:-1])
                if ts.tzinfo is None:
                    return ts
            else:
                ts = _fromiso(value)
                if ts.tzinfo is not None:
                    return ts.astimezone(UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):  # 0001-01-01T00:00+05:00 falls in year 0 in UTC
            pass
    raise BadLine(
        f'has a bad "{field}": {_short(value)} is not an ISO-8601 time with a zone (e.g. 2026-11-24T10:01:40Z)'
    )


def _int(value, field: str) -> int:
    if _is_int(value) and -_INT32 <= value < _INT32:
        return value
    raise BadLine(f'has a bad "{field}": {_short(value)} is not an integer')


def _str(value, field: str) -> str:
    if _utf8(value):
        return value
    if isinstance(value, str):
        raise BadLine(f'has a bad "{field}": it holds an unpaired surrogate (\\ud800-\\udfff)')
    raise BadLine(f'has a bad "{field}": {_short(value)} is not a string')


def _detail(value, field: str) -> str | None:
    if isinstance(value, dict):
        check_detail(value, f'has a bad "{field}"')
        return json.dumps(value, default=str) if value else None  # stored as the recorder stores it
    raise BadLine(f'has a bad "{field}": {_short(value)} is not an object')


def check_detail(detail: dict, where: str = "Bad event detail") -> None:
    """Refuse (BadLine, a ValueError) what JSON cannot carry or lifelog would not write:
    NaN or Infinity (Python's json reads and writes them; other readers fail on them) and
    nesting deeper than MAX_DETAIL_DEPTH. Walked without recursion."""
    todo = [(detail, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise BadLine(f"{where}: it holds {value!r}, which JSON has no number for")
        if isinstance(value, (dict, list)):
            if depth > MAX_DETAIL_DEPTH:
                raise BadLine(f"{where}: it is nested deeper than {MAX_DETAIL_DEPTH} levels")
            todo.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))


def _short(value) -> str:
    """``repr`` of a value in a message, cut to 60 characters (a bad field may be megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _level(value, field: str) -> str:
    if value in LEVELS:
        return value
    raise BadLine(f'has a bad "{field}": {_short(value)} is not {", ".join(LEVELS[:-1])} or {LEVELS[-1]}')


def _lesson_text(value, field: str) -> str:
    text = " ".join(_str(value, field).split())
    if not text or len(text) > LESSON_CHARS:
        raise BadLine(f'has a bad "{field}": a lesson is 1 to {LESSON_CHARS} characters, not {len(text)}')
    return text


def _moments(value, field: str) -> str | None:
    if isinstance(value, list) and all(isinstance(x, dict) for x in value):
        check_detail({"sources": value}, f'has a bad "{field}"')
        return json.dumps(value, ensure_ascii=False) if value else None
    raise BadLine(f'has a bad "{field}": {_short(value)} is not a list of objects')


_FIELDS = {
    "seen": (
        ("t_start", _time, _REQUIRED),
        ("t_end", _time, _REQUIRED),
        ("monitor", _int, 0),
        ("app", _str, ""),
        ("window", _str, ""),
        ("text", _str, _REQUIRED),
        ("top", _int, 0),
        ("left", _int, 0),
        ("ord", _int, 0),
        ("lead", _str, ""),
    ),
    "heard": (
        ("t_start", _time, _REQUIRED),
        ("t_end", _time, _REQUIRED),
        ("source", _str, _REQUIRED),
        ("engine", _str, ""),
        ("text", _str, _REQUIRED),
        ("language", _str, ""),
        ("speaker", _str, ""),
    ),
    "event": (("ts", _time, _REQUIRED), ("kind", _str, _REQUIRED), ("detail", _detail, None)),
    "digest": (
        ("level", _level, _REQUIRED),
        ("start", _time, _REQUIRED),
        ("end", _time, _REQUIRED),
        ("text", _str, _REQUIRED),
        ("sources", _detail, None),
        ("model", _str, "extractive"),
        ("basis", _str, _REQUIRED),
        ("made_at", _time, None),
    ),
    "lesson": (
        ("created", _time, _REQUIRED),
        ("updated", _time, None),
        ("text", _lesson_text, _REQUIRED),
        ("sources", _moments, None),
        ("model", _str, ""),
    ),
}


def parse_row(obj) -> tuple[str, tuple]:
    """A row object as ``(kind, row)`` with ``store.exchange``'s tuple; raises BadLine."""
    if type(obj) is dict and obj.get("type") == "seen":  # most rows: checked inline, else as below
        try:
            row = (
                _time(obj["t_start"], "t_start"),
                _time(obj["t_end"], "t_end"),
                obj.get("monitor", 0),
                obj.get("app", ""),
                obj.get("window", ""),
                obj["text"],
                obj.get("top", 0),
                obj.get("left", 0),
                obj.get("ord", 0),
                obj.get("lead", ""),
            )
        except (KeyError, BadLine):
            row = None
        if (
            row is not None
            and row[0] <= row[1]
            and type(row[2]) is type(row[6]) is type(row[7]) is type(row[8]) is int
            and -_INT32 <= row[2] < _INT32
            and -_INT32 <= row[6] < _INT32
            and -_INT32 <= row[7] < _INT32
            and -_INT32 <= row[8] < _INT32
            and _utf8(row[3])
            and _utf8(row[4])
            and _utf8(row[5])
            and _utf8(row[9])
        ):
            return "seen", row
    return _parse_row(obj)


def _utf8(value) -> bool:
    """A str that UTF-8 can encode (JSON escapes can make unpaired surrogates)."""
    if type(value) is not str:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse_row(obj) -> tuple[str, tuple]:
    if not isinstance(obj, dict):
        raise BadLine(f"is not a JSON object but {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        if "lifelog" in obj:
            raise BadLine("is a second header (files joined together?): import each file on its own")
        if isinstance(kind, str) and kind and _utf8(kind):
            return kind, ()  # a type of a later lifelog: counted, and skipped on import
        raise BadLine(f'has a bad "type" {_short(kind)} ({", ".join(TYPES)}, or a later row type)')
    fields = _FIELDS[kind]
    row: list[Any] = []
    for field, check, default in fields:
        value = obj.get(field, _REQUIRED)
        if value is _REQUIRED:
            if default is _REQUIRED:
                raise BadLine(f'is a {kind} row without "{field}"')
            row.append(default)
        else:
            row.append(check(value, field))
    if kind in ("seen", "heard") and row[1] < row[0]:
        raise BadLine("ends (t_end) before it starts (t_start)")
    if kind == "event" and not row[1]:
        raise BadLine('has an empty "kind"')
    if kind == "digest" and row[2] <= row[1]:
        raise BadLine("ends (end) where or before it starts (start)")
    if kind == "lesson" and row[1] is None:
        row[1] = row[0]  # never changed since it was made
    return kind, tuple(row)


def _json(raw: bytes):
    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
        raise BadLine(f"is longer than {MAX_LINE_BYTES:,} bytes (1 MiB), more than a row of text holds")
    try:
        return _decode(raw.rstrip(b"\r\n").decode("utf-8"))
    except UnicodeDecodeError:
        raise BadLine("is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadLine(f"is not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise BadLine("is nested too deeply to read (a lifelog row is an object of plain fields)") from None
    except ValueError:  # Python reads integers of at most 4,300 digits
        raise BadLine("holds a number with too many digits") from None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _counted(counts: dict) -> str:
    others = sorted(k for k in counts if k not in KINDS and counts[k])
    return ", ".join(f"{counts.get(k, 0):,} {k}" for k in (*KINDS, *others))
