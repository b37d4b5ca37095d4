"""The on-disk spool between capture and ingest: kept frames (``frames``), chunks of
speech (``audio``) and the silence gate that keeps silence out of it (``level``).

Capture writes each item atomically (a dot-prefixed temporary name, fsynced, renamed); the
pipelines read them in time order and delete each only after its rows are committed. The
frame functions are re-exported here: ``from lifelog import spool; spool.write_frame(...)``.
"""

import errno

from lifelog.spool.frames import (
    FRAME_SUFFIX,
    clean_partial,
    count_pending,
    frame_name,
    pending,
    read_frame,
    write_frame,
)

__all__ = [
    "FRAME_SUFFIX",
    "clean_partial",
    "count_pending",
    "frame_name",
    "pending",
    "read_frame",
    "transient",
    "caused_by",
    "write_frame",
]

# Errors that pass: out of file descriptors or memory, a failing or full disk, a busy resource.
TRANSIENT_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.EIO, errno.ENOSPC, errno.EAGAIN, errno.ENOMEM, errno.EINTR, errno.EBUSY}
)


def transient(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is an I/O error that passes. A spool file that meets
    one is kept and read again later: only a file that really cannot be decoded is set aside."""
    return caused_by(exc, TRANSIENT_ERRNOS)


def caused_by(exc: BaseException | None, errnos) -> bool:
    """Whether ``exc``, or an exception that caused it, is an ``OSError`` with one of ``errnos``."""
    while exc is not None:
        if getattr(exc, "errno", None) in errnos:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
