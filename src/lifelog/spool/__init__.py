"""The on-disk spool between capture and tokenize_media: kept frames (``frames``), chunks of
speech (``audio``) and the silence gate that keeps silence out of it (``level``).

Capture writes each item atomically (a dot-prefixed temporary name, fsynced, renamed); the
pipelines read them in time order and delete each only after its rows are committed. The
frame functions are re-exported here: ``from lifelog import spool; spool.write_frame(...)``.
"""

from lifelog.spool.frames import (
    FRAME_SUFFIX,
    clean_partial,
    count_pending,
    frame_name,
    pending,
    read_frame,
    write_frame,
)

__all__ = ["FRAME_SUFFIX", "clean_partial", "count_pending", "frame_name", "pending", "read_frame", "write_frame"]
