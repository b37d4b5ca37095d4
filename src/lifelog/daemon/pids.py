"""Which process a PID is, before ``lifelog daemon stop`` signals it: the PID in ``owner.lock``
outlives the owner that wrote it (a crash leaves the file), and the kernel may have given it to
any other program since. Only a process that holds the lock now and runs lifelog is signalled.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

from lifelog.api.protocol import lock_path
from lifelog.paths import Paths


def lock_is_held(paths: Paths) -> bool:
    """Whether a process holds the owner lock now (a shared, non-blocking ``flock`` of our own
    fails while an owner holds its exclusive one; ours is dropped at once)."""
    try:
        fd = os.open(lock_path(paths), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def is_lifelog_process(pid: int) -> bool:
    """Whether ``pid`` runs lifelog: the ``lifelog`` console script (run directly or by its
    interpreter) or ``python -m lifelog...``; the program's own name and Python's script or
    module decide, never an argument that merely mentions lifelog."""
    argv = command_line(pid)
    program = os.path.basename(argv[0]) if argv else ""
    if program == "lifelog":
        return True
    return program.startswith("python") and _python_runs_lifelog(argv[1:])


def _python_runs_lifelog(args: list[str]) -> bool:
    """Python's own options come first, then ``-m MODULE`` or the script: is that lifelog?"""
    for arg, following in zip(args, [*args[1:], ""]):
        if arg == "-m":
            return following.split(".")[0] == "lifelog"
        if not arg.startswith("-"):
            return os.path.basename(arg) == "lifelog"
    return False


def command_line(pid: int) -> list[str]:
    """The arguments ``pid`` runs with: from /proc (Linux), else from ``ps`` (macOS, BSD); empty
    when neither says."""
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        return text.rstrip("\0").split("\0") if text.strip("\0") else []
    except OSError:
        pass
    try:
        done = subprocess.run(
            ["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return done.stdout.split()
