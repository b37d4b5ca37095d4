"""One day's rows of a timeline as typed Parquet files, written by an in-memory DuckDB.

The rows arrive as lifelog JSONL lines (``lifelog.api.jsonl``: what every export streams), one
file per kind; DuckDB reads them with the columns declared below and copies them to Parquet in
the order they came (time order). The layout around these files (a folder per UTC day, the
manifest, the atomic swap) is ``lifelog.api.export_parquet``'s; the schema is documented in
docs/formats.md ("Timelines as Parquet").
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from lifelog.errors import LifelogError

SCHEMA_VERSION = 1  # bump when a column changes: every day is then written again
FILES = {"seen": "seen.parquet", "heard": "heard.parquet", "event": "events.parquet"}

# The JSONL fields each kind is read with (absent fields are NULL, then the format's default).
_JSON_COLUMNS = {
    "seen": {
        "t_start": "TIMESTAMPTZ",
        "t_end": "TIMESTAMPTZ",
        "monitor": "INTEGER",
        "app": "VARCHAR",
        "window": "VARCHAR",
        "top": "INTEGER",
        "left": "INTEGER",
        "ord": "INTEGER",
        "lead": "VARCHAR",
        "text": "VARCHAR",
    },
    "heard": {
        "t_start": "TIMESTAMPTZ",
        "t_end": "TIMESTAMPTZ",
        "source": "VARCHAR",
        "engine": "VARCHAR",
        "language": "VARCHAR",
        "speaker": "VARCHAR",
        "text": "VARCHAR",
    },
    "event": {"ts": "TIMESTAMPTZ", "kind": "VARCHAR", "detail": "JSON"},
}
# What each Parquet file holds, in order (person and machine are added to every file).
_SELECT = {
    "seen": (
        "t_start, t_end, coalesce(monitor, 0) AS monitor, coalesce(app, '') AS app, coalesce(\"window\", '') "
        'AS "window", coalesce(top, 0) AS top, coalesce("left", 0) AS "left", coalesce(ord, 0) AS ord, '
        "coalesce(lead, '') AS lead, text"
    ),
    "heard": "t_start, t_end, source, coalesce(engine, '') AS engine, coalesce(language, '') AS language,"
    " coalesce(speaker, '') AS speaker, text",
    "event": "ts, kind, coalesce(detail, '{}'::JSON) AS detail",
}


class ParquetWriter:
    """An in-memory DuckDB that turns JSONL files of one kind into Parquet files. Close it
    when done (or use it as a context manager)."""

    def __init__(self, spill: Path) -> None:
        """``spill``: where DuckDB may spill a large day (an in-memory database would use ``./.tmp``)."""
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ text is read and shown in UTC
        self._con.execute(f"SET temp_directory = {_literal(spill)}")

    def write(self, kind: str, jsonl: Path, parquet: Path, person: str, machine: str) -> int:
        """Write the ``kind`` rows of ``jsonl`` (lifelog JSONL row lines, no header) to
        ``parquet`` with ``person`` and ``machine`` on every row; the number of rows. An empty
        file gives a Parquet file with the same columns and no rows."""
        columns = "{" + ", ".join(f"{_quote(c)}: '{t}'" for c, t in _JSON_COLUMNS[kind].items()) + "}"
        source = (
            f"read_json({_literal(jsonl)}, format = 'newline_delimited', columns = {columns}, "
            "maximum_object_size = 4194304)"
        )
        if jsonl.stat().st_size == 0:  # read_json needs at least one line to read
            source = _empty(kind)
        query = f"SELECT {_SELECT[kind]}, ?::VARCHAR AS person, ?::VARCHAR AS machine FROM {source}"
        try:
            self._con.execute(
                f"COPY ({query}) TO {_literal(parquet)} (FORMAT parquet, COMPRESSION zstd)", [person, machine]
            )
            return _rows(self._con, parquet)
        except duckdb.Error as exc:
            raise LifelogError(f"Could not write {parquet}: {exc}") from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ParquetWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _empty(kind: str) -> str:
    """A relation with ``kind``'s JSONL columns and no rows."""
    casts = ", ".join(f"NULL::{t} AS {_quote(c)}" for c, t in _JSON_COLUMNS[kind].items())
    return f"(SELECT {casts} LIMIT 0)"


def _rows(con: duckdb.DuckDBPyConnection, parquet: Path) -> int:
    found = con.execute(f"SELECT num_rows FROM parquet_file_metadata({_literal(parquet)})").fetchone()
    return int(found[0]) if found else 0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
