"""The JSONL line format: what it writes, and the one-line error for each kind of bad line."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifelog.api import jsonl
from lifelog.errors import UsageError

HEADER = '{"lifelog":"timeline","version":1}'
SEEN = {"type": "seen", "t_start": "2026-11-24T10:01:40.5Z", "t_end": "2026-11-24T10:03:02Z", "text": "hi"}
_EVENT = '{"type":"event","ts":"2026-11-24T10:00:00Z","kind":"gap","detail":{}}'
DIGEST = {
    "type": "digest",
    "level": "hour",
    "start": "2026-11-24T10:00:00Z",
    "end": "2026-11-24T11:00:00Z",
    "basis": "5f1c",
    "text": "- 10:01 firefox: Weekly report",
}
LESSON = {"type": "lesson", "created": "2026-11-24T12:00:00Z", "text": "Send  the report\nby Friday."}


def _read(tmp_path, *lines: str):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return jsonl.validate(path, "t.jsonl"), list(jsonl.read_rows(path, "t.jsonl"))


def test_lines_written_read_back_to_the_same_rows(tmp_path):
    rows = [
        (
            "seen",
            (
                datetime(2026, 11, 24, 10, 1, 40, 500000),
                datetime(2026, 11, 24, 10, 3),
                1,
                "firefox",
                "Reports — Mozilla Firefox",
                'Weekly report: 周五 15:00 "due"',
                112,
                40,
                3,
                "    ",
            ),
        ),
        (
            "heard",
            (
                datetime(2026, 11, 24, 10, 2, 13),
                datetime(2026, 11, 24, 10, 2, 17, 250000),
                "system",
                "faster-whisper",
                "Remember the report.",
                "",
                "Dana",
            ),
        ),
        (
            "heard",
            (
                datetime(2026, 11, 24, 10, 2, 20),
                datetime(2026, 11, 24, 10, 2, 25),
                "mic",
                "faster-whisper",
                "富士康在印度工厂",
                "zh",
                "",
            ),
        ),
        ("event", (datetime(2026, 11, 24, 10, 30), "pause", json.dumps({"seconds": 1800}))),
        ("event", (datetime(2026, 11, 24, 10, 31), "resume", None)),
    ]
    head = jsonl.header_line({"seen": 1, "heard": 2, "event": 2}, None, None, datetime(2026, 11, 29, 9, 0, 0, 7))
    assert head == (
        '{"lifelog":"timeline","version":1,"exported":"2026-11-29T09:00:00Z","since":null,'
        '"until":null,"rows":{"seen":1,"heard":2,"event":2}}\n'
    )
    lines = [jsonl.row_line(k, r) for k, r in rows]
    assert lines[0].startswith('{"type":"seen","t_start":"2026-11-24T10:01:40.500000Z","t_end":"2026-11-24T10:03:00Z"')
    assert "周五" in lines[0]  # UTF-8, not \u escapes
    assert '"ord":3,"lead":"    ",' in lines[0]  # reading order and indentation (migration 8) travel too
    assert '"language"' not in lines[1] and '"language":"zh"' in lines[2]  # written only when known
    (header, counts), read = _read(tmp_path, head.strip(), *(line.strip() for line in lines))
    assert counts == {"seen": 1, "heard": 2, "event": 2} and header["version"] == 1
    assert [(k, r) for _, k, r in read] == rows


def test_defaults_zones_and_unknown_fields(tmp_path):
    _, read = _read(
        tmp_path,
        "",
        HEADER,
        "   ",
        json.dumps({**SEEN, "t_start": "2026-11-24T11:01:40.5+01:00", "later_field": [1]}),
        json.dumps(
            {
                "type": "heard",
                "t_start": "2026-11-24T10:00:00Z",
                "t_end": "2026-11-24T10:00:01Z",
                "source": "mic",
                "text": "x",
                "language": "en",
            }
        ),
        json.dumps({"type": "event", "ts": "2026-11-24T10:00:00Z", "kind": "gap", "detail": {}}),
    )
    assert [(n, k) for n, k, _ in read] == [(4, "seen"), (5, "heard"), (6, "event")]
    assert read[0][2] == (
        datetime(2026, 11, 24, 10, 1, 40, 500000),
        datetime(2026, 11, 24, 10, 3, 2),
        0,
        "",
        "",
        "hi",
        0,
        0,
        0,
        "",
    )
    assert read[1][2][3] == "" and read[1][2][5] == "en" and read[2][2][2] is None


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"type":"seen",', "line 3 is not JSON (Expecting property name enclosed in double quotes at column 16)"),
        ("[1, 2]", "line 3 is not a JSON object but list"),
        ('{"type":7}', 'line 3 has a bad "type" 7 (seen, heard, event, digest, lesson, or a later row type)'),
        ('{"type":""}', "line 3 has a bad \"type\" ''"),
        (json.dumps({**DIGEST, "level": "month"}), "line 3 has a bad \"level\": 'month' is not hour, day or week"),
        (json.dumps({**DIGEST, "end": DIGEST["start"]}), "line 3 ends (end) where or before it starts (start)"),
        (json.dumps({k: v for k, v in DIGEST.items() if k != "basis"}), 'line 3 is a digest row without "basis"'),
        (json.dumps({**DIGEST, "sources": [1]}), 'line 3 has a bad "sources": [1] is not an object'),
        (json.dumps({**LESSON, "text": " "}), 'line 3 has a bad "text": a lesson is 1 to 500 characters, not 0'),
        (
            json.dumps({**LESSON, "sources": {"t": 1}}),
            "line 3 has a bad \"sources\": {'t': 1} is not a list of objects",
        ),
        (json.dumps({**SEEN, "text": None}), 'line 3 has a bad "text": None is not a string'),
        (json.dumps({k: v for k, v in SEEN.items() if k != "t_end"}), 'line 3 is a seen row without "t_end"'),
        (
            json.dumps({**SEEN, "t_start": "2026-11-24 10:01"}),
            "line 3 has a bad \"t_start\": '2026-11-24 10:01' is not an ISO-8601 time with a zone",
        ),
        (json.dumps({**SEEN, "t_end": "2026-11-24T10:00:00Z"}), "line 3 ends (t_end) before it starts (t_start)"),
        (json.dumps({**SEEN, "monitor": "0"}), "line 3 has a bad \"monitor\": '0' is not an integer"),
        (json.dumps({**SEEN, "top": True}), 'line 3 has a bad "top": True is not an integer'),
        (json.dumps({**SEEN, "left": 2**40}), 'line 3 has a bad "left"'),
        (
            '{"type":"seen","t_start":"2026-11-24T10:01:40Z","t_end":"2026-11-24T10:03:02Z","text":"\\ud800"}',
            'line 3 has a bad "text": it holds an unpaired surrogate',
        ),
        (
            json.dumps({"type": "event", "ts": "2026-11-24T10:00:00Z", "kind": "gap", "detail": "x"}),
            "line 3 has a bad \"detail\": 'x' is not an object",
        ),
        (
            json.dumps(
                {"type": "heard", "t_start": "2026-11-24T10:00:00Z", "t_end": "2026-11-24T10:00:01Z", "text": "x"}
            ),
            'line 3 is a heard row without "source"',
        ),
        (HEADER, "line 3 is a second header (files joined together?)"),
        ("[" * 100_000 + "]" * 100_000, "line 3 is nested too deeply to read"),
        ('{"type":"seen","monitor":' + "7" * 5000 + "}", "line 3 holds a number with too many digits"),
        (
            json.dumps({**SEEN, "monitor": 10**4000}),
            'line 3 has a bad "monitor": 1' + "0" * 56 + "... is not an integer",
        ),
        (json.dumps({**SEEN, "t_start": "0001-01-01T00:00:00+05:00"}), 'line 3 has a bad "t_start"'),
        (_EVENT.replace("{}", '{"seconds":NaN}'), 'line 3 has a bad "detail": it holds nan, which JSON has no number'),
        (_EVENT.replace("{}", '{"a":[1e400]}'), 'line 3 has a bad "detail": it holds inf'),
        (_EVENT.replace("{}", '{"a":' * 40 + "1" + "}" * 40), 'line 3 has a bad "detail": it is nested deeper than 32'),
    ],
)
def test_a_bad_line_is_named(tmp_path, line, message):
    with pytest.raises(UsageError) as exc:
        _read(tmp_path, HEADER, json.dumps(SEEN), line)
    assert str(exc.value).startswith(f"Cannot import t.jsonl: {message}")
    assert str(exc.value).endswith("Nothing was imported.")


@pytest.mark.parametrize(
    "lines, message",
    [
        ((), "it is empty"),
        ((json.dumps(SEEN),), "line 1 is not a lifelog timeline header"),
        (
            ('{"lifelog":"timeline","version":2}',),
            "line 1 is in timeline format version 2, newer than this lifelog reads (1); upgrade lifelog to import it",
        ),
        (('{"lifelog":"timeline","version":"1"}',), "line 1 has a bad format version '1'"),
        ((b"\xff\xfe".decode("latin-1"),), "line 1 is not UTF-8"),
        (
            ('{"lifelog":"timeline","version":1,"rows":{"seen":2}}', json.dumps(SEEN)),
            "its header promises 2 seen, 0 heard, 0 event but it holds 1 seen, 0 heard, 0 event",
        ),
    ],
)
def test_a_bad_file_is_refused(tmp_path, lines, message):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join((line.encode("latin-1") if "\xff" in line else line.encode()) + b"\n" for line in lines))
    with pytest.raises(UsageError) as exc:
        jsonl.validate(path, "t.jsonl")
    assert message in str(exc.value)


def test_an_exported_detail_is_always_valid_json():
    """A detail stored with NaN or Infinity (an older lifelog, the recorder's own json.dumps)
    is exported with null in their place: strict JSON readers accept every line."""
    line = jsonl.row_line("event", (datetime(2026, 11, 24, 10), "gap", '{"a": NaN, "b": [Infinity, 1e400, 1.5]}'))
    strict = json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in {line}"))
    assert strict["detail"] == {"a": None, "b": [None, None, 1.5]}


_ROW_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(
        ["2026-11-24T10:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-11-24T10:00:00"]
    ),
)
_JSON = st.recursive(
    _ROW_VALUES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=10,
)
_ROWS = st.builds(
    lambda kind, fields, extra: {"type": kind, **fields, **extra},
    st.sampled_from(["seen", "heard", "event", "digest", "lesson", "frame", ""]),
    st.fixed_dictionaries(
        {},
        optional={
            f: _ROW_VALUES
            for f in ("t_start", "t_end", "ts", "text", "kind", "source", "monitor", "top", "left", "ord", "lead")
            + ("level", "start", "end", "basis", "created")
        },
    ),
    st.fixed_dictionaries({}, optional={"detail": _JSON, "language": _ROW_VALUES, "sources": _JSON}),
)
_LINES = st.one_of(
    _ROWS.map(lambda row: json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")),
    st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=1, max_value=200_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(min_value=1, max_value=20_000).map(lambda n: b'{"type":"seen","top":' + b"9" * n + b"}"),
    st.sampled_from(
        [
            b"NaN",
            b"-Infinity",
            b'{"type":"event","ts":"2026-11-24T10:00:00Z","kind":"x","detail":{"a":NaN}}',
            b"\xef\xbb\xbf" + HEADER.encode(),
            b"\x00",
            b'"\\ud800"',
        ]
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.lists(_LINES, max_size=4))
def test_any_line_is_a_row_or_one_line_naming_it(tmp_path, lines):
    """Random, deep, huge and odd lines after a header: each file is read whole into rows
    that export as valid JSON, or refused with one line; never another exception."""
    path = tmp_path / "t.jsonl"
    path.write_bytes(HEADER.encode() + b"\n" + b"".join(line + b"\n" for line in lines))
    try:
        jsonl.validate(path, "t.jsonl")
        rows = [(kind, row) for _, kind, row in jsonl.read_rows(path, "t.jsonl")]
    except UsageError as exc:
        message = str(exc)
        assert len(message.splitlines()) == 1 and len(message) < 600 and message.endswith("Nothing was imported.")
    else:
        for kind, row in rows:
            if kind in jsonl.TYPES:  # (a type of a later lifelog is skipped)
                json.loads(jsonl.row_line(kind, row), parse_constant=lambda c: pytest.fail(f"{c} exported"))


def test_a_line_may_hold_up_to_1_mib_and_a_longer_one_is_named(tmp_path):
    pad = jsonl.MAX_LINE_BYTES - len(json.dumps({**SEEN, "text": ""}))
    (_, counts), read = _read(tmp_path, HEADER, json.dumps({**SEEN, "text": "x" * pad}))
    assert counts["seen"] == 1 and read[0][2][5] == "x" * pad
    with pytest.raises(UsageError) as exc:
        _read(tmp_path, HEADER, json.dumps(SEEN), json.dumps({**SEEN, "text": "x" * (pad + 1)}))
    assert str(exc.value) == (
        "Cannot import t.jsonl: line 3 is longer than 1,048,576 bytes (1 MiB), more than a row "
        "of text holds. Nothing was imported."
    )


def test_digests_and_lessons_read_back_and_later_row_types_are_counted_and_skipped(tmp_path):
    """Optional rows within version 1: digests and lessons read back to what they were written
    from; a row of a type a later lifelog may add is counted (the header's count checked too)
    and yields no row to store, so an older reader skips it."""
    digest = (
        "day",
        datetime(2026, 11, 24),
        datetime(2026, 11, 25),
        "windows: firefox — Reports (2 min)\n- 10:01 firefox: Weekly report",
        json.dumps({"lines": [{"t": "2026-11-24T10:01:00Z", "text": "Weekly report"}]}),
        "smollm2",
        "abc|smollm2",
        datetime(2026, 11, 25, 0, 6),
    )
    lesson = (datetime(2026, 11, 24, 12), datetime(2026, 11, 24, 13), "Send the report by Friday.", None, "")
    lines = [jsonl.row_line("digest", digest).strip(), jsonl.row_line("lesson", lesson).strip()]
    assert json.loads(lines[1])["sources"] == [] and "made_at" in json.loads(lines[0])
    later = json.dumps({"type": "bookmark", "at": "2026-11-24T10:00:00Z", "url": "https://example.org"})
    head = '{"lifelog":"timeline","version":1,"rows":{"seen":1,"digest":1,"lesson":2,"bookmark":1}}'
    (_, counts), read = _read(tmp_path, head, json.dumps(SEEN), *lines, later, json.dumps(LESSON))
    assert counts == {"seen": 1, "heard": 0, "event": 0, "digest": 1, "lesson": 2, "bookmark": 1}
    assert read[1][1:] == ("digest", digest) and read[2][1:] == ("lesson", lesson)
    assert read[3][1:] == ("bookmark", ())
    created = datetime(2026, 11, 24, 12)
    assert read[4][1:] == ("lesson", (created, created, "Send the report by Friday.", None, ""))  # spaces folded
    with pytest.raises(UsageError) as exc:
        _read(tmp_path, head.replace('"bookmark":1', '"bookmark":2'), json.dumps(SEEN), *lines, later)
    assert "promises 1 seen, 0 heard, 0 event, 2 bookmark, 1 digest, 2 lesson but it holds 1 seen" in str(exc.value)
