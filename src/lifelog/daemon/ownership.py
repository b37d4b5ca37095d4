"""Who owns the timeline: one process at a time holds ``owner.lock`` in the data folder (an
``flock``, which the kernel drops when the process dies) and writes into it who it is (pid,
role, started), so a second owner, a command or ``lifelog daemon status`` can name it."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime

from lifelog.api.protocol import lock_path
from lifelog.errors import OwnerRunning
from lifelog.paths import Paths


class OwnerLock:
    """This process owns the timeline while it holds the lock (the kernel drops it on death);
    ``info`` says who it is, as the owner's ``/health`` answers."""

    def __init__(self, paths: Paths, role: str) -> None:
        self.path = lock_path(paths)
        self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_owner(paths) or {}
            os.close(self.fd)
            raise OwnerRunning(
                f"lifelog is already running here ({holder.get('role', 'owner')}, PID {holder.get('pid', '?')}, "
                f"since {holder.get('started', '?')}). Stop it first (`lifelog daemon stop`, or Ctrl-C where "
                "`lifelog record` runs)."
            ) from None
        self.info = {
            "pid": os.getpid(),
            "role": role,
            "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(self.info).encode(), 0)

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.close(self.fd)  # drops the flock
            self.fd = None


def read_owner(paths: Paths) -> dict | None:
    """What the owner lock file says about the owner (pid, role, started), if anything."""
    try:
        return json.loads(lock_path(paths).read_text() or "null")
    except (OSError, ValueError):
        return None
