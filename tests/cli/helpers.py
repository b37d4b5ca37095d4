"""Run the real ``lifelog`` command in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys


def lifelog(*args: str, env: dict, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "lifelog.cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"lifelog {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def lifelog_json(*args: str, env: dict, timeout: float = 300):
    return json.loads(lifelog(*args, "--json", env=env, timeout=timeout).stdout)
