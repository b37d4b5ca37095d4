"""An uploaded JSONL file, streamed to a private file in the data folder, never held in memory,
and refused past ``import_max`` (413): by its declared length before a byte is read, else as
soon as it passes the limit. What was written of a refused upload is removed; an owner that
died leaves its uploads for the next start to remove (``import_slices.finish_pending``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lifelog.config import load_settings
from lifelog.errors import UploadTooLarge
from lifelog.paths import Paths

UPLOAD_PREFIX = ".import-"  # uploads (``.jsonl``) and import journals (``.undo``) in the data folder


def check_size(size: int, limit: int, name: str) -> None:
    """Refuse a file of ``size`` bytes over ``limit`` (0: no limit), naming the setting."""
    if limit and size > limit:
        raise UploadTooLarge(
            f"Cannot import {name}: it is {size:,} bytes, over import_max ({limit:,} bytes). Import it in parts "
            "(export shorter ranges with --since/--until) or raise the limit: lifelog config set import_max 8GB. "
            "Nothing was imported."
        )


async def save_upload(request, paths: Paths, name: str) -> Path:
    """Write the request's body to a new private ``.import-*.jsonl`` in the data folder; its
    path. ``import_max`` is read from the config file now, as every import reads its settings."""
    limit = load_settings(paths.config_file).import_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        check_size(int(declared), limit, name)
    fd, tmp = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=".jsonl", dir=paths.data)
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                fh.write(chunk)
                check_size(fh.tell(), limit, name)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)
