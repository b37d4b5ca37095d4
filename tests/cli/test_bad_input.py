"""Bad input gets one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pytest

from lifelog.store import Store
from tests.cli.helpers import lifelog


@pytest.fixture
def env(home):
    return {**os.environ, "LIFELOG_HOME": str(home)}


@pytest.mark.parametrize(
    "args,message",
    [
        (["context", "--since", "banana"], "Bad time 'banana'"),
        (["context", "--since", "5m", "--until", "10m"], "must be after"),
        (["context", "--budget", "5"], "below the smallest possible window"),
        (["context", "--format", "yaml"], "Unknown format 'yaml'"),
        (["context", "--model", "gpt-99"], "Unknown model 'gpt-99'"),
        (["context", "--tokenizer", "gpt-99"], "Unknown tokenizer engine 'gpt-99'"),
        (["context", "--budget", "2g"], "Bad budget '2g'"),
        (["context", "--images", "2"], "--images needs --format messages"),
        (["context", "--format", "xml", "--images", "0"], "--images needs --format messages"),
        (["context", "--format", "messages", "--images", "-1"], "--images -1: give 0 to 100"),
        (["context", "--format", "messages", "--images", "2"], "--images needs a model to count images for"),
        (["context", "--format", "messages", "--images", "2", "--model", "llama3.1"], "no image rate for 'llama3.1'"),
        (["record", "--duration", "forever"], "Bad duration 'forever'"),
        (["record", "--fps", "500"], "fps = 500.0"),
        (["search", "  "], "Empty search query"),
        (["context", "--budget", "abc"], "Invalid value for '--budget'"),
        (["context", "--colour"], "No such option: --colour"),
        (["record", "--audio-source", "banana"], "audio_source = 'banana'"),
        (["context", "--since", "99999999d"], "Bad time '99999999d': 99999999d ago is out of range"),
        (
            ["context", "--since", "0001-01-01T00:00:00+05:00"],
            "Bad time '0001-01-01T00:00:00+05:00': it is out of range",
        ),
        (["pause", "3000000d"], "Pause 3000000d: a pause lasts more than 0s and at most 30d"),
    ],
)
def test_one_line_error_exit_2(env, args, message):
    proc = lifelog(*args, env=env, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lifelog: error:") and message in lines[0], proc.stderr


def test_bad_config_file_names_the_key(env, home):
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("fsp = 3\n")
    proc = lifelog("context", env=env, check=False)
    assert proc.returncode == 2
    assert "unknown setting 'fsp'" in proc.stderr


def test_a_non_finite_setting_in_the_config_file_is_refused(env, home):
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("busy_timeout_s = nan\n")
    proc = lifelog("search", "anything", env=env, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "busy_timeout_s = nan: must be between 0.1 and 3600" in proc.stderr


def test_reads_on_a_fresh_home_work(env):
    proc = lifelog("context", "--since", "1h", env=env)
    assert "(nothing recorded in this range)" in proc.stdout
    assert lifelog("search", "anything", env=env, check=False).returncode == 1


_HEADER = '{"lifelog":"timeline","version":1}\n'
_SEEN = '{"type":"seen","t_start":"2026-11-24T10:00:00Z","t_end":"2026-11-24T10:00:01Z","text":"first"}\n'


@pytest.mark.parametrize(
    "line,message",
    [
        ("[" * 100_000 + "]" * 100_000, "line 3 is nested too deeply to read"),
        ('{"type":"seen","top":' + "7" * 5000 + "}", "line 3 holds a number with too many digits"),
        (
            '{"type":"event","ts":"2026-11-24T10:00:00Z","kind":"gap","detail":{"s":NaN}}',
            'line 3 has a bad "detail": it holds nan',
        ),
    ],
)
def test_a_hostile_import_line_is_one_line_and_imports_nothing(env, home, tmp_path, line, message):
    path = tmp_path / "hostile.jsonl"
    path.write_text(_HEADER + _SEEN + line.strip() + "\n")
    proc = lifelog("import", str(path), env=env, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    if (home / "lifelog.duckdb").exists():
        with Store(home / "lifelog.duckdb").read() as r:
            assert r.spans_between(None, None) == [] and r.events_between(None, None) == []


def test_export_is_valid_json_whatever_a_stored_detail_holds(env, home):
    with Store(home / "lifelog.duckdb").write() as w:
        w.add_event(datetime(2026, 11, 24, 10), "gap", {"seconds": float("nan"), "to": [float("inf"), 2.5]})
    out = lifelog("export", env=env).stdout
    rows = [json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} exported")) for line in out.splitlines()]
    assert rows[-1]["detail"] == {"seconds": None, "to": [None, 2.5]}
