"""`lifelog config`: set, unset and show settings; a bad value changes nothing and exits 2."""

from __future__ import annotations

import os

import pytest

from tests.cli.helpers import lifelog, lifelog_json
from tests.support.speech_zh import needs_base


@pytest.fixture
def env(home):
    return {**{k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}, "LIFELOG_HOME": str(home)}


def test_set_unset_and_show_keep_the_rest_of_the_file(home, env):
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("# my settings\nfps = 1.0\nbudget = 8000  # for the small model\n")
    lifelog("config", "set", "budget", "200k", env=env)
    lifelog("config", "set", "chinese_script", "simplified", env=env)
    assert config.read_text() == '# my settings\nfps = 1.0\nbudget = 200000\nchinese_script = "simplified"\n'
    assert (config.stat().st_mode & 0o777) == 0o600
    shown = lifelog_json("config", "show", env=env)
    assert (shown["fps"], shown["budget"], shown["chinese_script"], shown["asr_model"]) == (
        1.0,
        200000,
        "simplified",
        "auto",
    )
    lifelog("config", "unset", "budget", env=env)
    assert config.read_text() == '# my settings\nfps = 1.0\nchinese_script = "simplified"\n'


@pytest.mark.parametrize(
    "key,value,says",
    [
        ("fsp", "3", "unknown setting 'fsp'. Known: ask_api_key_env"),
        ("fps", "fast", "fps = 'fast' is not a valid float"),
        (
            "chinese_script",
            "pinyin",
            "chinese_script = 'pinyin': must be one of auto, as-heard, simplified, traditional",
        ),
        ("asr_language", "klingon", "asr_language = 'klingon' is not a language Whisper knows"),
        ("asr_model", "small", "asr_model = 'small'"),
        ("asr_model", "bsae", "'bsae' is not a Whisper model lifelog knows"),
        ("busy_timeout_s", "nan", "busy_timeout_s = nan: must be between 0.1 and 3600"),
        ("ask_timeout_s", "inf", "ask_timeout_s = inf: must be between 1 and 86400"),
        ("exclude_titles", '["(?i)private ("]', "exclude_titles: invalid regular expression '(?i)private ('"),
        ("exclude_apps", "keepassxc", "exclude_apps = 'keepassxc' is not a valid JSON list of strings"),
        ("exclude_apps", "[1, 2]", "is not a valid JSON list of strings"),
        ("redact_patterns", '{"x": "("}', "redact_patterns: invalid regular expression '('"),
        ("exclude_audio", "maybe", "exclude_audio = 'maybe' is not a valid true or false"),
        ("keep_images", "forever", "keep_images = 'forever': Bad duration"),
        ("storage_max", "20XB", "storage_max = '20XB': Bad size"),
    ],
)
def test_a_bad_value_names_its_key_and_changes_nothing(home, env, key, value, says):
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("fps = 1.0\n")
    proc = lifelog("config", "set", key, value, env=env, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    assert config.read_text() == "fps = 1.0\n"


def test_asr_model_base_is_checked_against_what_is_installed(env):
    needs_base()
    lifelog("config", "set", "asr_model", "base", env=env)
    proc = lifelog("config", "set", "asr_language", "zh", env=env)
    assert "asr_language = 'zh'" in proc.stderr
    proc = lifelog("config", "set", "asr_model", "tiny.en", env=env, check=False)  # English only, with zh fixed
    assert proc.returncode == 2 and "reads English only" in proc.stderr


def test_privacy_settings_take_json_lists_tables_sizes_and_ages(home, env):
    config = home / "config" / "config.toml"
    lifelog("config", "set", "exclude_apps", '["keepassxc", "1password", "signal"]', env=env)
    lifelog(
        "config", "set", "exclude_titles", '["(?i)private browsing", "(?i)incognito", "(?i)online banking"]', env=env
    )
    lifelog("config", "set", "redact_patterns", '{"ticket": "TCK-\\\\d{6}"}', env=env)
    lifelog("config", "set", "exclude_audio", "false", env=env)
    lifelog("config", "set", "keep_images", "30d", env=env)
    lifelog("config", "set", "storage_max", "20GB", env=env)
    shown = lifelog_json("config", "show", env=env)
    assert shown["exclude_apps"] == ["keepassxc", "1password", "signal"]
    assert shown["exclude_titles"][2] == "(?i)online banking"
    assert shown["redact_patterns"] == {"ticket": "TCK-\\d{6}"}
    assert (shown["exclude_audio"], shown["keep_images"], shown["storage_max"]) == (False, "30d", "20GB")
    assert 'exclude_apps = ["keepassxc", "1password", "signal"]' in config.read_text()
    assert 'redact_patterns = {"ticket" = "TCK-\\\\d{6}"}' in config.read_text()


def test_private_browsing_is_excluded_by_default_and_can_be_unset(home, env):
    import re

    default = lifelog_json("config", "show", env=env)["exclude_titles"]
    for title in (
        "Mozilla Firefox Private Browsing",
        "New Incognito Tab - Google Chrome",
        "Example - Chromium (Incognito)",
        "New InPrivate tab - Microsoft Edge",
        "New Private Tab - Brave",
    ):
        assert any(re.search(p, title) for p in default), title
    assert not any(re.search(p, "Inbox - Mozilla Thunderbird") for p in default)
    lifelog("config", "set", "exclude_titles", "[]", env=env)
    assert lifelog_json("config", "show", env=env)["exclude_titles"] == []


def test_sizes_and_ages_parse():
    from lifelog.config import parse_age, parse_bytes

    assert parse_bytes("20GB") == 20 * 10**9 and parse_bytes("1.5GiB") == int(1.5 * 2**30)
    assert parse_bytes("500mb") == 500 * 10**6 and parse_bytes("4096") == 4096
    assert parse_age("30d") == 30 * 86400 and parse_age("") == 0
