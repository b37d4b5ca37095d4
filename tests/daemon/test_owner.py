"""What an owner clears when it starts: temporary files of private writes that a crash cut
short, in the data and config folders, and nothing else."""

from __future__ import annotations

import os
import time

from lifelog.daemon.owner import clean_leftovers
from lifelog.paths import Paths, atomic_private_file


def test_an_owner_clears_what_a_crash_left_mid_write(tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    stale = [paths.data / ".lifelog.key.5e1a2b.tmp", paths.config_dir / ".config.toml.77aa01.tmp"]
    young = paths.config_dir / ".config.toml.0b0b0b.tmp"  # `lifelog config set` writing right now
    kept = [paths.data / "lifelog.duckdb", paths.data / ".lifelog.duckdb.rewrite", young]
    for p in stale + kept:
        p.write_text("x")
    for p in stale:
        os.utime(p, (time.time() - 600,) * 2)
    with atomic_private_file(paths.config_dir / "config.toml") as fh:
        fh.write(b"fps = 2\n")
    assert clean_leftovers(paths) == 2
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)
    assert (paths.config_dir / "config.toml").read_text() == "fps = 2\n"
