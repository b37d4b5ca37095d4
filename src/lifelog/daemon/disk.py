"""The low-disk guard: capture pauses while the data folder's filesystem has less than
``disk_min_free`` free, with a ``gap`` (reason ``low_disk``) in the timeline, and resumes by
itself once there is :data:`RESUME_MARGIN` more than that again (so it does not flap at the
line). The supervisor asks :meth:`DiskGuard.low` on every tick; the filesystem is asked at
most every :data:`CHECK_S` seconds (a ``statvfs``, microseconds).

Below the floor nothing new is captured, but what is in the spool is still processed; a write
that meets a full disk anyway (the spool, a frame image, the database) fails whole and is
tried again later (``paths.atomic_private_file``, the pipeline keeps its spool files).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from lifelog.store.usage import free_bytes

log = logging.getLogger(__name__)

CHECK_S = 3.0  # between looks at the free space
RESUME_MARGIN = 1.1  # resume once free space is back above this times the floor
LOW_DISK = "low_disk"  # the gap's reason


class DiskGuard:
    def __init__(
        self, folder: Path, min_free: int, *, free: Callable[[Path], int | None] = free_bytes, check_s: float = CHECK_S
    ) -> None:
        self.folder = folder
        self.min_free = min_free  # 0: never pause
        self.free = free
        self.check_s = check_s
        self.is_low = False
        self.last_free: int | None = None
        self._next = 0.0

    def low(self) -> bool:
        """Whether capture should be paused now."""
        if not self.min_free or time.monotonic() < self._next:
            return self.is_low
        self._next = time.monotonic() + self.check_s
        free = self.free(self.folder)
        self.last_free = free
        if free is None:  # cannot tell: keep recording
            self.is_low = False
        elif self.is_low:
            self.is_low = free < self.min_free * RESUME_MARGIN
        else:
            self.is_low = free < self.min_free
        return self.is_low
