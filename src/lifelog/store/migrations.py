"""Schema as code: numbered migration functions, each applied with its record in ONE transaction.

Modelled on sqlite-utils' ``migrations``: a migration is a function taking a connection,
registered under a version number with :func:`migration`. :func:`apply` runs the pending
ones in order; each runs in its own transaction together with the row that records it in
``schema_migrations``, so a failure leaves neither its changes nor its record behind.

NEVER edit a migration that has shipped: add a new, higher-numbered one instead.

No table has a PRIMARY KEY or index: DuckDB 1.4's ART indexes leak file blocks under the
open-write-close pattern this store uses (see ``db.py``). Ids come from sequences and the
single writer keeps them unique; time filters use DuckDB's zonemaps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

from lifelog.errors import StoreError
from lifelog.store.sql import one

Migration = Callable[[duckdb.DuckDBPyConnection], None]

MIGRATIONS: dict[int, Migration] = {}


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register ``fn`` as migration number ``version``."""

    def register(fn: Migration) -> Migration:
        if version in MIGRATIONS:
            raise ValueError(f"migration {version} is registered twice")
        MIGRATIONS[version] = fn
        return fn

    return register


def latest_version(migrations: dict[int, Migration] | None = None) -> int:
    return max(migrations if migrations is not None else MIGRATIONS, default=0)


def current_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The highest applied version, 0 for an empty record, None if never migrated."""
    exists = one(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = 'schema_migrations'"
        )
    )[0]
    if not exists:
        return None
    return one(con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations"))[0]


def apply(con: duckdb.DuckDBPyConnection, migrations: dict[int, Migration] | None = None) -> list[int]:
    """Apply pending migrations in version order; returns the versions applied."""
    migrations = MIGRATIONS if migrations is None else migrations
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    if max(done, default=0) > latest_version(migrations):
        raise StoreError(
            f"The database is at schema version {max(done)}, newer than this lifelog knows "
            f"({latest_version(migrations)}). Upgrade lifelog to use it."
        )
    applied: list[int] = []
    for version in sorted(set(migrations) - done):
        fn = migrations[version]
        con.begin()
        try:
            fn(con)
            con.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, fn.__name__, datetime.now(UTC).replace(tzinfo=None)],
            )
            con.commit()
        except Exception as exc:
            con.rollback()
            raise StoreError(
                f"Schema migration {version} ({fn.__name__}) failed and was rolled back: {exc}. "
                f"The database stays at version {max(done | set(applied), default=0)}."
            ) from exc
        applied.append(version)
    return applied


@migration(1)
def m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE SEQUENCE frames_id_seq START 1;
        CREATE TABLE frames (
            id            BIGINT    NOT NULL DEFAULT nextval('frames_id_seq'),
            ts            TIMESTAMP NOT NULL,
            monitor       INTEGER   NOT NULL,
            width         INTEGER   NOT NULL,
            height        INTEGER   NOT NULL,
            app           VARCHAR   NOT NULL DEFAULT '',
            "window"      VARCHAR   NOT NULL DEFAULT '',
            image_ref     VARCHAR   NOT NULL DEFAULT '',
            region_left   INTEGER   NOT NULL,
            region_top    INTEGER   NOT NULL,
            region_right  INTEGER   NOT NULL,
            region_bottom INTEGER   NOT NULL,
            keyframe      BOOLEAN   NOT NULL,
            ocr_ms        DOUBLE    NOT NULL DEFAULT 0,
            ocr_failed    BOOLEAN   NOT NULL DEFAULT false
        );
        CREATE SEQUENCE text_spans_id_seq START 1;
        CREATE TABLE text_spans (
            id       BIGINT    NOT NULL DEFAULT nextval('text_spans_id_seq'),
            t_start  TIMESTAMP NOT NULL,
            t_end    TIMESTAMP NOT NULL,
            monitor  INTEGER   NOT NULL,
            app      VARCHAR   NOT NULL DEFAULT '',
            "window" VARCHAR   NOT NULL DEFAULT '',
            text     VARCHAR   NOT NULL,
            top      INTEGER   NOT NULL DEFAULT 0,
            "left"   INTEGER   NOT NULL DEFAULT 0,
            frame_id BIGINT,
            open     BOOLEAN   NOT NULL DEFAULT true
        );
        CREATE SEQUENCE events_id_seq START 1;
        CREATE TABLE events (
            id     BIGINT    NOT NULL DEFAULT nextval('events_id_seq'),
            ts     TIMESTAMP NOT NULL,
            kind   VARCHAR   NOT NULL,
            detail VARCHAR              -- JSON object text, NULL when there is none
        );
        CREATE TABLE recordings (
            id             VARCHAR   NOT NULL,  -- uuid
            started        TIMESTAMP NOT NULL,
            ended          TIMESTAMP,
            fps            DOUBLE,
            frames_seen    BIGINT    NOT NULL DEFAULT 0,
            frames_kept    BIGINT    NOT NULL DEFAULT 0,
            frames_skipped BIGINT    NOT NULL DEFAULT 0,
            ocr_failures   BIGINT    NOT NULL DEFAULT 0
        );
        CREATE TABLE meta (
            key   VARCHAR NOT NULL,
            value VARCHAR NOT NULL
        );
    """)


@migration(2)
def m002_audio(con: duckdb.DuckDBPyConnection) -> None:
    """Text heard: voiced audio chunks, their Whisper transcripts, audio counters per recording."""
    con.execute("""
        CREATE SEQUENCE audio_chunks_id_seq START 1;
        CREATE TABLE audio_chunks (
            id        BIGINT    NOT NULL DEFAULT nextval('audio_chunks_id_seq'),
            t_start   TIMESTAMP NOT NULL,
            t_end     TIMESTAMP NOT NULL,
            source    VARCHAR   NOT NULL,           -- mic, system, file
            audio_ref VARCHAR   NOT NULL DEFAULT '', -- relative to the audio folder; '' if not kept
            voiced_s  DOUBLE    NOT NULL DEFAULT 0
        );
        CREATE SEQUENCE transcripts_id_seq START 1;
        CREATE TABLE transcripts (
            id       BIGINT    NOT NULL DEFAULT nextval('transcripts_id_seq'),
            t_start  TIMESTAMP NOT NULL,
            t_end    TIMESTAMP NOT NULL,
            source   VARCHAR   NOT NULL,
            engine   VARCHAR   NOT NULL,
            text     VARCHAR   NOT NULL,
            tokens   INTEGER   NOT NULL DEFAULT 0,
            chunk_id BIGINT                         -- audio_chunks.id, NULL when none was kept
        );
        -- DuckDB cannot add a column with a NOT NULL constraint; readers coalesce.
        ALTER TABLE recordings ADD COLUMN audio_chunks BIGINT DEFAULT 0;
        ALTER TABLE recordings ADD COLUMN audio_voiced_ms BIGINT DEFAULT 0;
        ALTER TABLE recordings ADD COLUMN audio_silent_ms BIGINT DEFAULT 0;
    """)


@migration(3)
def m003_source_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Where each frame and audio chunk came from (its spool file's name), so replaying a spool
    file whose rows were committed just before a crash stores nothing twice."""
    con.execute("""
        ALTER TABLE frames ADD COLUMN source_key VARCHAR DEFAULT '';
        ALTER TABLE audio_chunks ADD COLUMN source_key VARCHAR DEFAULT '';
    """)


@migration(4)
def m004_search_postings(con: duckdb.DuckDBPyConnection) -> None:
    """Search by postings tables kept up with every write (``store/search_index.py``), instead
    of the fts extension's index that only a whole rebuild refreshed: create them, index the
    rows stored so far once, and drop the fts index and its bookkeeping."""
    from lifelog.store import search_index

    search_index.create_tables(con)
    search_index.backfill(con)
    for table in ("text_spans", "transcripts"):
        con.execute(f"DROP SCHEMA IF EXISTS fts_main_{table} CASCADE")
    con.execute("DELETE FROM meta WHERE key IN ('fts_max_span_id', 'fts_max_transcript_id')")


@migration(5)
def m005_span_tokens(con: duckdb.DuckDBPyConnection) -> None:
    """The o200k token count of each text span, kept with the span when it is written
    (``store/tokens.py``), so a context window's cost is a sum, not a re-tokenisation."""
    from lifelog.store import tokens

    con.execute("ALTER TABLE text_spans ADD COLUMN tokens INTEGER")
    tokens.backfill_spans(con)


@migration(6)
def m006_chunk_vectors(con: duckdb.DuckDBPyConnection) -> None:
    """Semantic search: one vector per chunk (a minute of one window seen, or of one audio
    source heard) and model (``store/embeddings.py``). Nothing is embedded here: the owner
    embeds the backlog in the background, ``lifelog index`` at once."""
    con.execute("""
        CREATE TABLE chunk_vectors (
            chunk_start TIMESTAMP  NOT NULL,           -- the minute (UTC)
            kind        VARCHAR    NOT NULL,           -- seen, heard
            monitor     INTEGER    NOT NULL,           -- -1 for heard
            app         VARCHAR    NOT NULL DEFAULT '',
            "window"    VARCHAR    NOT NULL DEFAULT '',
            source      VARCHAR    NOT NULL DEFAULT '', -- mic, system, file; '' for seen
            model       VARCHAR    NOT NULL,
            n_lines     INTEGER    NOT NULL,
            last_id     BIGINT     NOT NULL,           -- the highest span / transcript id included
            scale       FLOAT      NOT NULL,           -- vector * scale: the L2-normalised embedding
            vector      TINYINT[384] NOT NULL          -- int8: scanned ~4x faster than FLOAT (no ALP-RD)
        )
    """)


@migration(7)
def m007_transcript_language(con: duckdb.DuckDBPyConnection) -> None:
    """The language each transcript was heard in (Whisper's code: zh, en, ...), detected per
    audio chunk or fixed by ``asr_language``; '' for rows from before (tiny.en: English)."""
    con.execute("ALTER TABLE transcripts ADD COLUMN language VARCHAR DEFAULT ''")


@migration(8)
def m008_span_layout(con: duckdb.DuckDBPyConnection) -> None:
    """How each line is read on its screen (``tokenize_media/ocr/layout.py``): ``ord``, its place
    in reading order among the lines first seen on the same frame (columns, panes and windows
    one after another), and ``lead``, what goes before its text when shown (a newline where a
    paragraph, column or pane begins, ``# `` for a heading, the indentation of monospace text).
    Rows from before read in their old order (0, then top and left) with nothing before them."""
    con.execute("""
        ALTER TABLE text_spans ADD COLUMN ord INTEGER DEFAULT 0;
        ALTER TABLE text_spans ADD COLUMN lead VARCHAR DEFAULT '';
    """)


@migration(9)
def m009_hour_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Per-hour summaries of the lines seen and heard (``store/hours.py``), so an outline or a
    cost over months reads hours instead of aggregating every line: create them and summarise
    the hours stored so far, up to the hour being recorded (a year of lines: ~15 s)."""
    from lifelog.store import hours

    hours.create_tables(con)
    hours.advance(con)


@migration(10)
def m010_search_chinese_folded(con: duckdb.DuckDBPyConnection) -> None:
    """Search writes Traditional Chinese characters Simplified on both sides (``store/terms.py``),
    so either script finds the other: the rows indexed before, that hold a Traditional
    character, are indexed again (``search_index.refold``; a timeline without any: one scan,
    nothing written)."""
    from lifelog.store import search_index

    search_index.refold(con)


@migration(11)
def m011_voices(con: duckdb.DuckDBPyConnection) -> None:
    """Who spoke (``store/voices.py``): the voices heard, each a speaker embedding kept local
    (its centroid, moved as more of it is heard), a name once the user gives one, how long and
    when it was heard; each transcript's ``speaker`` is its voice (NULL: not told, as every row
    from before)."""
    con.execute("""
        CREATE SEQUENCE voices_id_seq START 1;
        CREATE TABLE voices (
            id          BIGINT    NOT NULL DEFAULT nextval('voices_id_seq'),
            name        VARCHAR,                  -- NULL until named; 'me' for the user's own
            centroid    FLOAT[192],               -- unit-length CAM++ embedding; NULL for a name imported
            seconds     DOUBLE    NOT NULL DEFAULT 0,
            first_heard TIMESTAMP,
            last_heard  TIMESTAMP
        );
        ALTER TABLE transcripts ADD COLUMN speaker BIGINT;
    """)


@migration(12)
def m012_digests(con: duckdb.DuckDBPyConnection) -> None:
    """Digests of hours, days and weeks (``store/digests.py``): made later, from the lines
    stored (``lifelog digest``, or the owner when the machine is idle); none at first."""
    from lifelog.store import digests

    digests.create_table(con)


@migration(13)
def m013_lessons(con: duckdb.DuckDBPyConnection) -> None:
    """Lessons (``store/lessons.py``): short notes a model keeps at the start of its context,
    written by hand or by ``lessons reflect``, each with the moments it came from."""
    con.execute("""
        CREATE SEQUENCE lessons_id_seq START 1;
        CREATE TABLE lessons (
            id      BIGINT    NOT NULL DEFAULT nextval('lessons_id_seq'),
            text    VARCHAR   NOT NULL,
            sources VARCHAR   NOT NULL,   -- JSON: the moments it came from [{t, text, ...}]
            model   VARCHAR   NOT NULL,   -- '' written by hand, else the model that reflected
            created TIMESTAMP NOT NULL,
            updated TIMESTAMP NOT NULL
        );
    """)


@migration(14)
def m014_chunk_vector_parts(con: duckdb.DuckDBPyConnection) -> None:
    """Semantic search by what a person reads as one thing: a chunk seen is embedded in parts
    (a message, a paragraph), each a row with its number and the ids of its lines
    (``store/embeddings.py``). Rows from before are one part of their whole chunk (no ids); the
    chunk text's new version makes them pending, and each serves until it is re-embedded."""
    con.execute("ALTER TABLE chunk_vectors ADD COLUMN part INTEGER DEFAULT 0")
    con.execute("ALTER TABLE chunk_vectors ADD COLUMN line_ids BIGINT[]")
