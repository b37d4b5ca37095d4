"""Settings: every value, from `config set`, the environment or an existing config.toml, is
either accepted and valid (finite, in its range, written back as TOML that reads the same) or
refused with one line naming the key."""

from __future__ import annotations

import json
import math
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifelog.config import RANGES, Settings, edit_config, load_settings, parse_budget
from lifelog.errors import ConfigError, LifelogError, UsageError

KEYS = sorted(f.name for f in fields(Settings))
_ODD = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "-1",
    "0",
    "1e400",
    "9" * 5000,
    "1_000",
    "3.5",
    "",
    " ",
    "true",
    "[]",
    "{}",
    '["a"]',
    '{"a": "b"}',
    "\udcff",
    "a\x7fb",
    '["\x7f"]',
    "20GB",
    "30d",
    "99999999999d",
    "9" * 400 + "GB",
]
_VALUES = st.one_of(
    st.sampled_from(_ODD),
    st.text(max_size=30),
    st.floats().map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
_TOML = st.one_of(
    st.floats().map(repr),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=20).map(lambda t: json.dumps(t, ensure_ascii=True)),
    st.sampled_from(["[]", '["a", 1]', "{a = 1}", "1979-05-27", "99999999999999999999"]),
)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check_valid(s: Settings) -> None:
    for key, (low, high) in RANGES.items():
        value = getattr(s, key)
        assert math.isfinite(value) and low <= value <= high, (key, value)
    s.storage_max_bytes, s.disk_min_free_bytes  # noqa: B018 (raise if unreadable)


def _one_line_refusal(exc: LifelogError, key: str) -> None:
    assert exc.exit_code == 2 and len(str(exc).splitlines()) == 1, exc
    assert key in str(exc), exc


@_SETTINGS
@given(key=st.sampled_from(KEYS), value=_VALUES)
def test_config_set_accepts_a_valid_value_or_refuses_it_whole(tmp_path, key, value):
    path = tmp_path / "config.toml"
    path.write_text("fps = 1.0\n")
    try:
        edited = edit_config(path, key, value)
    except LifelogError as exc:
        _one_line_refusal(exc, key)
        assert path.read_text() == "fps = 1.0\n"  # nothing half-applied
    else:
        _check_valid(edited)
        assert load_settings(path, env={}) == edited  # what was written reads back the same


@_SETTINGS
@given(key=st.sampled_from(KEYS), literal=_TOML)
def test_a_config_file_value_is_valid_or_refused(tmp_path, key, literal):
    path = tmp_path / "config.toml"
    path.write_text(f"{key} = {literal}\n")
    try:
        loaded = load_settings(path, env={})
    except LifelogError as exc:
        assert exc.exit_code == 2 and len(str(exc).splitlines()) == 1, exc
    else:
        _check_valid(loaded)


@_SETTINGS
@given(key=st.sampled_from(KEYS), value=_VALUES)
def test_an_environment_value_is_valid_or_refused(key, value):
    try:
        loaded = load_settings(None, env={f"LIFELOG_{key.upper()}": value})
    except LifelogError as exc:
        _one_line_refusal(exc, key)
    else:
        _check_valid(loaded)


@pytest.mark.parametrize(
    "line",
    [
        "busy_timeout_s = nan",
        "busy_timeout_s = inf",
        "busy_timeout_s = -1",
        "ask_timeout_s = inf",
        "keyframe_every_s = -inf",
        "spool_max_frames = 1e9",
        "monitor = inf",
        "fps = true",
        'storage_max = "' + "9" * 400 + 'GB"',
        'keep_text = "99999999d"',
        "budget = true",
    ],
)
def test_a_non_finite_or_out_of_range_file_value_names_its_key(tmp_path, line):
    path = tmp_path / "config.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=line.split()[0]):
        load_settings(path, env={})


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["9" * 5000, "1e400", "nan", "1.5M", "200k", "8_000"]),
        st.integers(min_value=1, max_value=10**40).map(str),
    )
)
def test_a_budget_is_a_whole_number_of_tokens_or_one_short_line(text):
    try:
        tokens = parse_budget(text)
    except UsageError as exc:
        assert len(str(exc).splitlines()) == 1 and len(str(exc)) < 600  # the budget quoted cut to 40 characters
    else:
        assert isinstance(tokens, int) and tokens >= 1
        if text.isdigit():
            assert tokens == int(text)  # exact, however many digits (no float rounding)
