"""A data folder lifelog cannot use gets one line naming it and what to do, never a traceback.

Tests run as root, whom permission bits do not stop, so the unusable folders here are ones
the kernel refuses to anyone: a path under a regular file, and paths in /proc and /sys.
"""

from __future__ import annotations

import os

import pytest

from tests.cli.helpers import lifelog

READS = [["status"], ["context", "--since", "1h"]]
WRITES = [["record", "--duration", "1s", "--audio-source", "none"], ["process"]]


def assert_one_line_error(proc, *expected: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lifelog: error: "), proc.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("args", READS + WRITES, ids=lambda a: a[0])
def test_home_under_a_regular_file(tmp_path, args):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file where a folder was expected\n")
    home = blocker / "lifelog"
    proc = lifelog(*args, env={**os.environ, "LIFELOG_HOME": str(home)}, check=False, timeout=120)
    assert_one_line_error(proc, str(home), f"{blocker} is a file, not a folder", "LIFELOG_HOME")


@pytest.mark.parametrize(
    "home,why",
    [
        ("/proc/lifelog-test-home", "cannot create"),  # procfs refuses new entries
        ("/sys/lifelog-test-home", "cannot create"),  # sysfs refuses them too
        ("/proc/self", "cannot make"),  # exists, but its mode cannot be changed, even by root
    ],
)
@pytest.mark.parametrize("args", WRITES, ids=lambda a: a[0])
def test_home_the_kernel_refuses(home, why, args):
    proc = lifelog(*args, env={**os.environ, "LIFELOG_HOME": home}, check=False, timeout=120)
    line = assert_one_line_error(proc, "LIFELOG_HOME")
    assert why in line.lower()
    if home != "/proc/self":  # that one resolves to the process's own /proc/<pid>
        assert home in line
