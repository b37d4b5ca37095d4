"""`lifelog config`: set, unset and show settings; a bad value changes nothing and exits 2."""

from __future__ import annotations

import os

import pytest

from tests.cli.helpers import lifelog, lifelog_json
from tests.tokenize_media.test_asr_multilingual import needs_base


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
    assert (shown["fps"], shown["budget"], shown["chinese_script"], shown["asr_model"]) == (1.0, 200000, "simplified", "tiny.en")
    lifelog("config", "unset", "budget", env=env)
    assert config.read_text() == '# my settings\nfps = 1.0\nchinese_script = "simplified"\n'


@pytest.mark.parametrize("key,value,says", [
    ("fsp", "3", "unknown setting 'fsp'. Known: ask_api_key_env"),
    ("fps", "fast", "fps = 'fast' is not a valid float"),
    ("chinese_script", "pinyin", "chinese_script = 'pinyin': must be one of as-heard, simplified, traditional"),
    ("asr_language", "klingon", "asr_language = 'klingon' is not a language Whisper knows"),
    ("asr_model", "small", "asr_model = 'small'"),
    ("asr_model", "bsae", "'bsae' is not a Whisper model lifelog knows"),
])
def test_a_bad_value_changes_nothing(home, env, key, value, says):
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
