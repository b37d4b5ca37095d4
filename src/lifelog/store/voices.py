"""Who spoke: the voices heard, kept in the timeline, and the names the user gives them.

A voice is a speaker embedding (``tokenize_media/asr/speakers.py``): the centroid of
everything heard of it, stored local like every other row (encrypted with the timeline, gone
with ``forget`` once none of its speech is left). Each recording's or chunk's speakers are
matched to the voices already known (``assign``), so one voice keeps its label across
recordings; on the microphone the voice that speaks most is the user's own, ``me``, unless it
is clearly another known voice. A voice is shown by its name, else as ``Speaker N`` (its id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import duckdb
import numpy as np

from lifelog.errors import UsageError
from lifelog.models import HeardVoice
from lifelog.store.sql import one, utc_naive

ME = "me"
LABEL = "coalesce({v}.name, 'Speaker ' || {v}.id)"
"""SQL for a voice's label, ``{v}`` the voices table's alias."""
WEIGHT_CAP_S = 600.0
"""A voice's centroid moves towards what is newly heard as if it had been heard for at most
this long: it follows a voice that changes (a cold, another microphone) and never freezes."""
MAX_NAME = 80
MATCH = 0.65
"""Least cosine between a speaker's centroid and a known voice's for them to be one voice, as
``speaker_turns.SAME_VOICE`` inside one recording (measured on real voices: the same voice in
two recordings 0.63-0.89, two voices 0.45-0.58)."""
_UNNAMED = re.compile(r"(?i)speaker\s*(\d+)")


def label_of(speaker: str) -> str:
    """The SQL expression for the label of the voice whose id is the column ``speaker``."""
    return f"(SELECT {LABEL.format(v='v')} FROM voices v WHERE v.id = {speaker})"


def heard_source(speaker: str = "transcripts.speaker") -> str:
    """SQL for a transcript's source as read for a window: ``system``, or ``system · Dana`` when
    its voice was told (``replay.blocks.heard_from`` shows it)."""
    return f"source || coalesce(' · ' || {label_of(speaker)}, '')"


def assign(con: duckdb.DuckDBPyConnection, found: Sequence[HeardVoice], source: str, at: datetime) -> list[int]:
    """The voice id of each voice ``found`` in a recording or chunk from ``source`` heard at
    ``at``: a known voice when the centroids match (``match_speakers``), else a
    new one. Known voices' centroids move towards what was heard."""
    if not found:
        return []
    rows = con.execute("SELECT id, name, centroid, seconds FROM voices WHERE centroid IS NOT NULL").fetchall()
    known = {r[0]: np.asarray(r[2], np.float32) for r in rows}
    heard = np.asarray([v.centroid for v in found], np.float32)
    ids: list[int | None] = list(match_speakers(heard, known))
    new_me = None  # the index of the voice to be created as "me"
    if source == "mic":
        me = next((r[0] for r in rows if r[1] == ME), None)
        dominant = int(np.argmax([v.seconds for v in found]))
        if ids[dominant] is None and me is None:
            new_me = dominant
        elif ids[dominant] is None and me not in ids:
            ids[dominant] = me
    seconds = {r[0]: r[3] for r in rows}
    out = []
    for i, (voice, vid) in enumerate(zip(found, ids)):
        if vid is None:
            vid = _create(con, voice, at, ME if i == new_me else None)
        elif vid in known:
            old, new = min(seconds[vid], WEIGHT_CAP_S), max(voice.seconds, 0.1)
            centroid = _unit(known[vid] * old + np.asarray(voice.centroid, np.float32) * new)
            con.execute(
                "UPDATE voices SET centroid = ?, seconds = seconds + ?, last_heard = greatest(last_heard, ?)"
                " WHERE id = ?",
                [centroid.tolist(), voice.seconds, utc_naive(at), vid],
            )
        out.append(vid)
    return out


def match_speakers(found: np.ndarray, known: Mapping[int, np.ndarray], threshold: float = MATCH) -> list[int | None]:
    """Which known voice each speaker is (``found``: centroids, one row per speaker; ``known``:
    a voice's id -> its centroid): the id, or None for a voice not heard before. Pairs are
    taken best first, each known voice at most once, none below ``threshold`` cosine."""
    result: list[int | None] = [None] * len(found)
    keys = list(known)
    if not keys or len(found) == 0:
        return result
    sims = _unit(found) @ _unit(np.stack([np.asarray(known[k], np.float32) for k in keys])).T
    for flat in np.argsort(-sims, axis=None):
        i, j = np.unravel_index(flat, sims.shape)
        if sims[i, j] < threshold:
            break
        if result[i] is None and keys[j] not in result:
            result[i] = keys[j]
    return result


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _create(con: duckdb.DuckDBPyConnection, voice: HeardVoice, at: datetime, name: str | None = None) -> int:
    return one(
        con.execute(
            "INSERT INTO voices (name, centroid, seconds, first_heard, last_heard) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [name, list(voice.centroid), voice.seconds, utc_naive(at), utc_naive(at)],
        )
    )[0]


def by_label(con: duckdb.DuckDBPyConnection, label: str, *, create: bool = False) -> int | None:
    """The voice a label names: its name (any case), or ``Speaker N`` / ``N`` for voice N.
    With ``create``, a name not known yet becomes a voice of that name with no embedding (a
    speaker carried in an imported timeline)."""
    label = label.strip()
    unnamed = _UNNAMED.fullmatch(label) or (re.fullmatch(r"\d+", label) and re.match(r"(\d+)", label))
    if unnamed:
        row = con.execute("SELECT id FROM voices WHERE id = ? AND name IS NULL", [int(unnamed.group(1))]).fetchone()
        if row or not create:
            return row[0] if row else None
    row = con.execute("SELECT id FROM voices WHERE lower(name) = lower(?) ORDER BY id LIMIT 1", [label]).fetchone()
    if row or not create:
        return row[0] if row else None
    return one(con.execute("INSERT INTO voices (name) VALUES (?) RETURNING id", [label]))[0]


def matching(con: duckdb.DuckDBPyConnection, label: str) -> list[int]:
    """The voices a search's ``--speaker`` means: the one ``by_label`` names, else every voice
    whose name holds ``label`` (any case)."""
    exact = by_label(con, label)
    if exact is not None:
        return [exact]
    sql = "SELECT id FROM voices WHERE strpos(lower(name), lower(?)) > 0"
    return [r[0] for r in con.execute(sql, [label.strip()]).fetchall()]


def named_in(con: duckdb.DuckDBPyConnection, words: set[str]) -> list[int]:
    """The named voices (not ``me``) every word of whose name is among ``words`` (lower case):
    "Dana" for "the call with Dana", "Dana Whitfield" only when both words are there."""
    named = con.execute("SELECT id, name FROM voices WHERE name IS NOT NULL AND name <> ?", [ME]).fetchall()
    return [vid for vid, n in named if set(n.lower().split()) <= words]


def listing(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every voice with speech left in the timeline: id, label, name, seconds of speech, how many
    transcripts, first and last heard, from which sources; the most heard first."""
    rows = con.execute(f"""
        SELECT v.id, {LABEL.format(v="v")}, v.name, sum(epoch(t.t_end) - epoch(t.t_start)), count(*),
               min(t.t_start), max(t.t_end), list(DISTINCT t.source ORDER BY t.source)
        FROM voices v JOIN transcripts t ON t.speaker = v.id
        GROUP BY v.id, v.name ORDER BY 4 DESC, v.id
    """).fetchall()
    return [
        {
            "id": r[0],
            "speaker": r[1],
            "name": r[2],
            "seconds": round(r[3], 1),
            "transcripts": r[4],
            "first": r[5].isoformat() + "Z",
            "last": r[6].isoformat() + "Z",
            "sources": r[7],
        }
        for r in rows
    ]


def name(con: duckdb.DuckDBPyConnection, speaker: str, new: str) -> dict:
    """Give the voice ``speaker`` (its number, ``Speaker N`` or its name) the name ``new``:
    everything it said, and will say, is shown under it. UsageError for a voice not heard, a
    name another voice has, or a name that is not one."""
    new = " ".join(new.split())
    if not new or len(new) > MAX_NAME or _UNNAMED.fullmatch(new) or new.isdigit():
        raise UsageError(
            f"Bad speaker name {new!r}: give 1 to {MAX_NAME} characters, not a number or 'Speaker N' (those are labels)."
        )
    vid = by_label(con, speaker)
    heard = {v["id"]: v for v in listing(con)}
    if vid is None or vid not in heard:
        known = ", ".join(v["speaker"] for v in heard.values()) or "none yet"
        raise UsageError(f"No speaker {speaker!r} was heard. Speakers: {known} (see `lifelog speakers`).")
    taken = by_label(con, new)
    if taken is not None and taken != vid:
        raise UsageError(f"The name {new!r} is taken by another voice ({taken}); choose another.")
    con.execute("UPDATE voices SET name = ? WHERE id = ?", [new, vid])
    _relabel_calls(con, heard[vid]["speaker"], new)
    return {**heard[vid], "speaker": new, "name": new, "was": heard[vid]["speaker"]}


def prune(con: duckdb.DuckDBPyConnection) -> int:
    """Remove the voices none of whose speech is left (after ``forget``): a voice's embedding
    goes with the last of what it said. Returns how many went."""
    gone = con.execute(
        "DELETE FROM voices WHERE id NOT IN (SELECT DISTINCT speaker FROM transcripts WHERE speaker IS NOT NULL)"
        " RETURNING id"
    ).fetchall()
    return len(gone)


# -- calls --------------------------------------------------------------------------------

CALL_SOURCES = ("system", "file")
CALL_GAP_S = 180.0
"""Seconds without speech from a source after which a call on it has ended."""
CALL_MIN_VOICE_S = 5.0
"""Seconds a voice must speak in a stretch to count as taking part in a call."""


def mark_calls(con: duckdb.DuckDBPyConnection, source: str, at: datetime) -> dict | None:
    """A stretch of speech from ``source`` (system audio or an imported recording) around
    ``at`` in which two or more voices spoke is a call: one ``call`` event at its start, with
    ``until``, the speakers (labels, most heard first) and its seconds of speech. Done again as
    each chunk of the stretch is stored (the event is replaced); the call's detail, or None."""
    if source not in CALL_SOURCES:
        return None
    lo, hi = utc_naive(at) - timedelta(hours=12), utc_naive(at) + timedelta(hours=12)
    rows = con.execute(
        "SELECT t_start, t_end, speaker FROM transcripts WHERE source = ? AND t_start BETWEEN ? AND ?"
        " ORDER BY t_start, id",
        [source, lo, hi],
    ).fetchall()
    stretches: list[list[tuple]] = []  # speech with no pause of CALL_GAP_S in it
    ends: list[datetime] = []
    for row in rows:
        if not stretches or (row[0] - ends[-1]).total_seconds() > CALL_GAP_S:
            stretches.append([])
            ends.append(row[1])
        stretches[-1].append(row)
        ends[-1] = max(ends[-1], row[1])
    found = next((i for i, end in enumerate(ends) if end >= utc_naive(at)), None)
    if found is None:
        return None
    stretch, start, end = stretches[found], stretches[found][0][0], ends[found]
    con.execute(
        "DELETE FROM events WHERE kind = 'call' AND ts BETWEEN ? AND ? AND json_extract_string(detail, '$.source') = ?",
        [start - timedelta(seconds=CALL_GAP_S), end, source],
    )
    spoke: dict[int, float] = {}
    for t_start, t_end, speaker in stretch:
        if speaker is not None:
            spoke[speaker] = spoke.get(speaker, 0.0) + (t_end - t_start).total_seconds()
    voices = sorted((v for v, s in spoke.items() if s >= CALL_MIN_VOICE_S), key=lambda v: -spoke[v])
    if len(voices) < 2:
        return None
    labels = dict(con.execute(f"SELECT id, {LABEL.format(v='v')} FROM voices v").fetchall())
    detail = {
        "until": end.isoformat() + "Z",
        "source": source,
        "speakers": [labels[v] for v in voices],
        "seconds": round(sum(spoke.values()), 1),
    }
    con.execute("INSERT INTO events (ts, kind, detail) VALUES (?, 'call', ?)", [start, json.dumps(detail)])
    return detail


def _relabel_calls(con: duckdb.DuckDBPyConnection, was: str, now: str) -> None:
    """Calls name their speakers as they were labelled: a voice named afresh is renamed in them."""
    for event_id, detail in con.execute(
        "SELECT id, detail FROM events WHERE kind = 'call' AND detail IS NOT NULL"
    ).fetchall():
        data = json.loads(detail)
        if was in data.get("speakers", []):
            data["speakers"] = [now if s == was else s for s in data["speakers"]]
            con.execute("UPDATE events SET detail = ? WHERE id = ?", [json.dumps(data), event_id])
