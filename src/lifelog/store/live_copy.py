"""The owner's rewrite (``rewrite.py``) while it keeps writing: copy a snapshot, then the delta.

Copying a large timeline takes half a minute or more; holding the owner's write lock that long
would hold up the recorder. So in the owner the copy is made from a snapshot, and only what
was written meanwhile is copied under the lock:

1. **mark** (write lock held, a moment): a cursor begins a transaction, whose snapshot is the
   database as it is now, and notes per table its rows, its highest ``id``, the text spans
   still open and each search corpus's highest indexed id (:class:`Marks`). DuckDB's query
   log is switched on: from here every statement any cursor runs is noted;
2. **copy** (no lock): ``COPY FROM DATABASE`` from that snapshot into the fresh file, which is
   checkpointed; the recorder, imports and background workers write meanwhile;
3. **catch up** (write lock held, reads held by the swap gate): the statements logged since
   the mark say what changed, table by table (:func:`plan`):

   * rows inserted into a table with ids: the rows above its highest id are copied;
   * postings appended to a search index: those of rows above the highest indexed id;
   * the recorder's updates of open text spans (``t_end``, ``open``): the spans open at the
     mark (and new ones) are copied again;
   * anything else in a table of at most :data:`WHOLE_ROWS` rows (hour summaries, search
     stats, recordings, meta): the whole table is copied again;
   * anything else in a larger table (a tail of postings merged into a run, retention
     deleting old rows, a schema change): the copy is stale and is thrown away
     (:class:`Stale`); the caller makes another.

   Sequences are moved past the live ones, and each changed table's row count is checked
   against the live one (a difference: stale). Then the caller closes the old connection and
   renames the copy in, as before.

The copy holds only rows of the snapshot and rows written since, so what a forget deleted
before the mark is in neither. Crash safety is the rewrite's: until the rename the old file
is whole, and the copy a killed owner left is removed at its next start.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import duckdb

from lifelog.errors import Stale
from lifelog.store import crypt
from lifelog.store.sql import CORPORA, one

log = logging.getLogger(__name__)

WHOLE_ROWS = 250_000  # a changed table this small is copied again whole under the lock (a year of hour_seen: ~105k)
_QUERY_LOG = "QueryLog"
_WRITE = re.compile(
    r"\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO|COPY)\s+"
    r'((?:"?\w+"?\.)*"?\w+"?)',
    re.IGNORECASE,
)
_DDL = re.compile(
    r"\b(CREATE|DROP|ALTER)\b(.*?)\b(?:TABLE|SEQUENCE|VIEW|INDEX|SCHEMA|MACRO|TYPE)\b"
    r'(?:\s+IF\s+(?:NOT\s+)?EXISTS)?\s+((?:"?\w+"?\.)*"?\w+"?)',
    re.IGNORECASE | re.DOTALL,
)
_OPEN_SPAN_UPDATE = "t_end = greatest(t_end, ?)"  # Writer.close_spans / Writer._set_end: open spans only
_MINE = ("COPY FROM DATABASE", "CHECKPOINT", "ATTACH", "DETACH", "USE ", "CALL ")


@dataclass
class Marks:
    """The snapshot's marks: rows and highest id per table, spans open, indexed ids."""

    rows: dict[str, int] = field(default_factory=dict)
    max_id: dict[str, int] = field(default_factory=dict)
    open_spans: list[int] = field(default_factory=list)
    indexed: dict[str, int] = field(default_factory=dict)  # postings table -> highest indexed doc


def mark(cur: duckdb.DuckDBPyConnection) -> Marks:
    """In ``cur``'s open transaction (the snapshot), the marks of every table; switches the
    query log on (under the write lock, so no write is half logged)."""
    marks = Marks()
    for (table,) in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND NOT temporary"
    ).fetchall():
        id_type = cur.execute(
            "SELECT data_type FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = ? AND column_name = 'id'",
            [table],
        ).fetchall()
        if id_type and id_type[0][0] in ("BIGINT", "INTEGER"):  # a sequence's ids (recordings' are text)
            n, top = one(cur.execute(f'SELECT count(*), coalesce(max(id), 0) FROM "{table}"'))
            marks.max_id[table] = top
        else:
            n = one(cur.execute(f'SELECT count(*) FROM "{table}"'))[0]
        marks.rows[table] = n
    if "text_spans" in marks.rows:
        marks.open_spans = [r[0] for r in cur.execute("SELECT id FROM text_spans WHERE open").fetchall()]
    if "search_stats" in marks.rows:
        indexed = dict(cur.execute("SELECT corpus, max_id FROM search_stats").fetchall())
        for corpus in CORPORA:
            for table in (corpus.postings, corpus.tail):
                marks.indexed[table] = indexed.get(corpus.table, 0)
    cur.execute("CALL truncate_duckdb_logs()")
    cur.execute(f"CALL enable_logging('{_QUERY_LOG}')")
    return marks


def stop_logging(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CALL disable_logging()")
    con.execute("CALL truncate_duckdb_logs()")


def logged(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The statements run since :func:`mark`, oldest first."""
    return [
        r[0]
        for r in con.execute(
            f"SELECT message FROM duckdb_logs WHERE type = '{_QUERY_LOG}' ORDER BY timestamp"
        ).fetchall()
    ]


def plan(statements: list[str], marks: Marks) -> dict[str, str]:
    """What each changed table needs: ``ids`` (rows above its highest id), ``postings`` (those
    of rows above the highest indexed id), ``open`` (new and once-open spans), ``whole``.
    Raises :class:`Stale` when a large table changed otherwise, or the schema did."""
    needs: dict[str, str] = {}
    tables = set(marks.rows)
    for sql in statements:
        if sql.lstrip().upper().startswith(_MINE):
            continue
        for verb, target in _ddl(sql):
            if verb == "CREATE" and not _is_temp(sql, target):
                raise Stale(f"the schema changed ({sql[:60]!r})")
            if verb in ("DROP", "ALTER") and _name(target) in tables and not target.lower().startswith("temp."):
                raise Stale(f"the schema changed ({sql[:60]!r})")
        for verb, target in _WRITE.findall(sql):
            table = _name(target)
            if table not in tables or target.lower().startswith("temp."):
                continue  # a temporary table, or a file
            need = _need(verb.split()[0].upper(), table, sql, marks)
            needs[table] = _merge(needs.get(table), need)
    for table, need in needs.items():
        if need == "whole" and marks.rows[table] > WHOLE_ROWS:
            raise Stale(f"{table} ({marks.rows[table]:,} rows) changed other than by new rows")
    return needs


def _ddl(sql: str) -> list[tuple[str, str]]:
    return [(m.group(1).upper(), m.group(3)) for m in _DDL.finditer(sql)]


def _is_temp(sql: str, target: str) -> bool:
    return target.lower().startswith("temp.") or re.search(r"\bTEMP(?:ORARY)?\b", sql, re.IGNORECASE) is not None


def _name(target: str) -> str:
    return target.split(".")[-1].strip('"')


def _need(verb: str, table: str, sql: str, marks: Marks) -> str:
    if verb == "INSERT" and "ON CONFLICT" not in sql.upper():
        if table in marks.max_id:
            return "ids"
        if table in marks.indexed and not any(re.search(rf"\b{t}\b", sql) for t in marks.indexed if t != table):
            return "postings"  # appended from new rows (a tail merged into a run reads the tail)
    if verb == "UPDATE" and table == "text_spans" and _OPEN_SPAN_UPDATE in sql:
        return "open"
    return "whole"


def _merge(old: str | None, new: str) -> str:
    if old is None or old == new:
        return new
    if {old, new} == {"ids", "open"}:
        return "open"  # "open" copies the new rows too
    return "whole"


def catch_up(cur: duckdb.DuckDBPyConnection, source: str, fresh: str, needs: dict[str, str], marks: Marks) -> None:
    """Copy into ``fresh`` what ``needs`` says changed in ``source`` since ``marks``, in ``cur``'s
    transaction; then sequences, and each changed table's count (else :class:`Stale`)."""
    for table, need in needs.items():
        live, new = f'"{source}".main."{table}"', f'{fresh}.main."{table}"'
        if need == "ids":
            cur.execute(f"INSERT INTO {new} BY NAME SELECT * FROM {live} WHERE id > ?", [marks.max_id[table]])
        elif need == "postings":
            cur.execute(f"INSERT INTO {new} BY NAME SELECT * FROM {live} WHERE doc > ?", [marks.indexed[table]])
        elif need == "open":  # the spans open at the mark again (the BETWEEN skips row groups), then new ones
            spans = marks.open_spans or [0]
            cond, params = "id BETWEEN ? AND ? AND list_contains(?::BIGINT[], id)", [min(spans), max(spans), spans]
            cur.execute(f"DELETE FROM {new} WHERE {cond}", params)
            cur.execute(f"INSERT INTO {new} BY NAME SELECT * FROM {live} WHERE {cond}", params)
            cur.execute(f"INSERT INTO {new} BY NAME SELECT * FROM {live} WHERE id > ?", [marks.max_id[table]])
        else:
            cur.execute(f"DELETE FROM {new}")
            cur.execute(f"INSERT INTO {new} BY NAME SELECT * FROM {live}")
    _advance_sequences(cur, source, fresh)
    for table in needs:
        live, copied = (
            one(cur.execute(f'SELECT count(*) FROM {db}.main."{table}"'))[0] for db in (f'"{source}"', fresh)
        )
        if live != copied:
            raise Stale(f"{table} has {live:,} rows but its copy {copied:,}")


def _advance_sequences(cur: duckdb.DuckDBPyConnection, source: str, fresh: str) -> None:
    """Each of ``fresh``'s sequences past the value its live one has reached."""
    live = dict(
        cur.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = ?", [source]
        ).fetchall()
    )
    for name, reached in live.items():
        if reached is None:
            continue
        at = one(cur.execute(f"SELECT nextval('{fresh}.main.{name}')"))[0]
        if at < reached:
            cur.execute(f"SELECT max(nextval('{fresh}.main.{name}')) FROM range(?)", [reached - at])


def snapshot_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of the owner's connection on its timeline's catalog (``crypt.cursor``)."""
    return crypt.cursor(con)
