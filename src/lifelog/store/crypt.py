"""DuckDB's own encryption at rest: opening an encrypted database file.

DuckDB 1.4 encrypts a file it ATTACHes with ``ENCRYPTION_KEY`` (AES-GCM on every block and
the WAL). Writing needs OpenSSL, which comes from the ``httpfs`` extension, loaded offline
from the ``duckdb-ext-httpfs`` wheel. So an encrypted file is never opened with
``duckdb.connect(path)``: an in-memory connection loads httpfs, ATTACHes the file under an
alias and ``USE``\\ s it, and every SQL of the store then runs unchanged on it.

Loading httpfs costs ~0.13 s per database instance (measured, 2 cores), an ATTACH 2-5 ms
and a DETACH (which checkpoints) ~5 ms. Short-lived connections therefore share one
in-memory *host* instance per process and attach each file to a cursor of it, under an
alias of their own, detaching when they close; the owner takes an instance of its own
(``own_instance``) so its memory limit and spill folder are its own. Temporary files that
DuckDB spills for an encrypted database are encrypted as well (``temp_file_encryption``).

The secret is spliced into the ATTACH statement (DuckDB takes no parameter there); every
error message that leaves this module is scrubbed of it.
"""

from __future__ import annotations

import itertools
import struct
import threading
from pathlib import Path

import duckdb

_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_ENCRYPTED_FLAG = 1  # MainHeader flags[0] bit (DuckDB 1.4 storage format)
_HEADER_FLAGS_AT = 20  # 8-byte checksum, "DUCK", 8-byte version number, then the flags

_host_lock = threading.Lock()
_host: duckdb.DuckDBPyConnection | None = None
_aliases = itertools.count(1)
_attached: dict[int, str] = {}  # id(connection) -> alias to DETACH on close


def is_encrypted_file(path: Path) -> bool:
    """Whether the DuckDB file at ``path`` says in its header that it is encrypted."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEADER_FLAGS_AT + 8)
    except FileNotFoundError:
        return False
    if len(head) < _HEADER_FLAGS_AT + 8 or head[8:12] != b"DUCK":
        return False
    return bool(struct.unpack_from("<Q", head, _HEADER_FLAGS_AT)[0] & _ENCRYPTED_FLAG)


def _instance() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    try:
        import duckdb_ext

        duckdb_ext.init(con)
        con.execute("LOAD httpfs")  # OpenSSL: without it an encrypted file opens read-only
        con.execute("SET temp_file_encryption = true")
    except BaseException:
        con.close()
        raise
    return con


def _shared_cursor() -> duckdb.DuckDBPyConnection:
    global _host
    with _host_lock:
        if _host is None:
            _host = _instance()
        return _host.cursor()


def attach(path: Path, secret: str, *, read_only: bool, own_instance: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the encrypted file at ``path`` (created if missing)."""
    con = _instance() if own_instance else _shared_cursor()
    alias = f"lifelog_{next(_aliases)}"
    try:
        attach_as(con, path, alias, secret, read_only=read_only)
        con.execute(f"USE {alias}")
    except duckdb.Error:
        con.close()
        raise
    _attached[id(con)] = alias
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor of ``con`` on the same default catalog (a cursor starts at ``memory``)."""
    cur = con.cursor()
    alias = _attached.get(id(con))
    if alias is not None:
        cur.execute(f"USE {alias}")
    return cur


def host() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection able to attach encrypted files (close it when done)."""
    return _instance()


def attach_as(
    con: duckdb.DuckDBPyConnection, path: Path, alias: str, secret: str | None = None, *, read_only: bool = False
) -> None:
    """Attach the file at ``path`` to ``con`` as ``alias``: encrypted with ``secret``, else in the
    clear (``con`` must come from :func:`host` or :func:`attach` to attach an encrypted one)."""
    options = ([f"ENCRYPTION_KEY '{secret}'"] if secret else []) + (["READ_ONLY"] if read_only else [])
    target = str(path).replace("'", "''")
    suffix = f" ({', '.join(options)})" if options else ""
    try:
        con.execute(f"ATTACH '{target}' AS {alias}{suffix}")
    except duckdb.Error as exc:
        raise type(exc)(scrub(str(exc), secret)) from None


def detach(con: duckdb.DuckDBPyConnection) -> None:
    """Detach what :func:`attach` attached to ``con`` (DuckDB checkpoints it); no-op otherwise."""
    alias = _attached.pop(id(con), None)
    if alias is not None:
        con.execute("USE memory")
        con.execute(f"DETACH {alias}")


def scrub(message: str, secret: str | None) -> str:
    return message if not secret else message.replace(secret, "<key>")
