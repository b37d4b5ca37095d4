"""Everything lifelog writes is readable by its user only, whatever the shell's umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from tests.cli.helpers import lifelog


@pytest.fixture
def env(home):
    return {**os.environ, "LIFELOG_HOME": str(home)}


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _with_umask_022():
    os.umask(0o022)  # the common default, under which files come out 0644 unless lifelog sets its own


def test_drain_lock_and_context_output_are_0600(env, home, tmp_path):
    out = tmp_path / "window.txt"
    for args in (["process"], ["context", "--since", "1h", "-o", str(out)]):
        subprocess.run(
            [sys.executable, "-m", "lifelog.cli.app", *args],
            env=env,
            check=True,
            capture_output=True,
            preexec_fn=_with_umask_022,
            timeout=120,
        )
    assert mode(home / "spool" / ".drain.lock") == 0o600
    assert "(nothing recorded in this range)" in out.read_text()
    assert mode(out) == 0o600


def test_context_output_replacing_a_readable_file_becomes_0600(env, tmp_path):
    out = tmp_path / "window.txt"
    out.write_text("old")
    out.chmod(0o644)
    lifelog("context", "--since", "1h", "-o", str(out), env=env)
    assert out.read_text() != "old"
    assert mode(out) == 0o600


def test_duckdb_wal_under_the_cli_is_0600(env, home):
    """DuckDB creates ``<db>.wal`` with the process umask; the CLI sets it at entry."""
    snippet = textwrap.dedent(f"""
        import os, stat, duckdb
        from lifelog.cli.app import main
        try:
            main(["process"])  # creates the home and the database
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        db = {str(home / "lifelog.duckdb")!r}
        con = duckdb.connect(db)
        con.execute("CREATE TABLE wal_probe AS SELECT 1 AS x")
        print(oct(stat.S_IMODE(os.stat(db + ".wal").st_mode)))
        con.close()
    """)
    proc = subprocess.run(
        [sys.executable, "-c", snippet],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_with_umask_022,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0o600"


def test_outputs_over_a_planted_link_or_world_writable_file_are_private_files(env, tmp_path):
    """In a folder others can write to, `context -o` and `export -o` replace what was planted at
    the path: a link is not followed (its target stays as it was), a 0666 file becomes ours, 0600."""
    shared, victim = tmp_path / "shared", tmp_path / "victim.txt"
    shared.mkdir()
    victim.write_text("keep me")
    window, export = shared / "window.md", shared / "timeline.jsonl"
    window.symlink_to(victim)
    export.write_text("planted")
    export.chmod(0o666)
    lifelog("context", "--since", "1h", "-o", str(window), env=env)
    lifelog("export", "-o", str(export), env=env)
    assert victim.read_text() == "keep me"
    assert not window.is_symlink() and "(nothing recorded in this range)" in window.read_text()
    assert export.read_text() != "planted"
    assert mode(window) == mode(export) == 0o600
