"""Rows read straight from the tables, for tests that check what the store holds: the spans seen
as context windows read them, the transcripts heard and the voiced audio stored. lifelog itself
reads through ``Reader``'s methods; these go through its ``query`` and hold the tests' SQL here,
out of the store's API."""

from __future__ import annotations

from datetime import datetime

from lifelog.models import AudioChunkRecord, Transcript
from lifelog.store.reader import SHOWN_TEXT
from lifelog.store.rows import SeenRow, named
from lifelog.store.sql import TRANSCRIPT_COLUMNS, time_range, transcript_from_row, where

AUDIO_CHUNK_COLUMNS = "id, t_start, t_end, source, audio_ref, voiced_s, source_key"


def seen_rows(reader, since: datetime | None, until: datetime | None) -> list[SeenRow]:
    """The spans visible in [since, until) in on-screen order (``t``: their start), each as shown:
    the plain reading that ``Reader.seen_columns`` must agree with."""
    conds, params = time_range(since, until, "t_start", "t_end")
    return named(
        SeenRow,
        reader.query(
            f'SELECT t_start, monitor, app, "window", {SHOWN_TEXT}, tokens FROM text_spans{where(conds)} '
            'ORDER BY t_start, monitor, ord, top, "left", id',
            params,
        ),
    )


def transcripts_between(reader, since: datetime | None, until: datetime | None) -> list[Transcript]:
    """Text heard at some time in [since, until), by start time, then source, then id."""
    conds, params = time_range(since, until, "t_start", "t_end")
    rows = reader.query(
        f"SELECT {TRANSCRIPT_COLUMNS} FROM transcripts{where(conds)} ORDER BY t_start, source, id", params
    )
    return [transcript_from_row(r) for r in rows]


def audio_chunks_between(reader, since: datetime | None, until: datetime | None) -> list[AudioChunkRecord]:
    """Voiced audio overlapping [since, until), by start time, then source, then id."""
    conds, params = time_range(since, until, "t_start", "t_end")
    rows = reader.query(
        f"SELECT {AUDIO_CHUNK_COLUMNS} FROM audio_chunks{where(conds)} ORDER BY t_start, source, id", params
    )
    return [
        AudioChunkRecord(t_start=t0, t_end=t1, source=src, audio_ref=ref, voiced_s=voiced, id=id_, source_key=key or "")
        for id_, t0, t1, src, ref, voiced, key in rows
    ]
