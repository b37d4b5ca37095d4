"""Speech in every language through the real command, with the default settings: real Mandarin
recordings and English speech imported (Whisper base, chosen by ``asr_model = auto``; the
Chinese script from the locale), then found by `context`, `search` and `export` in either
script; bad ASR settings refused in one line before anything is written."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.cli.helpers import lifelog, lifelog_json
from tests.support.sections import heard_sections
from tests.support.speech import have_espeak, speak, word_accuracy
from tests.support.speech_zh import MANDARIN, char_recall, mandarin_clip, needs_base, to_simplified, to_traditional

ENGLISH = "Please send the signed contract to the legal team tomorrow."
AT, SINCE, UNTIL = "2026-11-20T14:00:00+00:00", "2026-11-20T13:59:00+00:00", "2026-11-20T14:10:00+00:00"
HANZI = re.compile(r"[\u4e00-\u9fff]")


def test_mandarin_and_english_recordings_are_heard_found_and_in_one_script(home, tmp_path):
    needs_base()
    if not have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    env = {**os.environ, "LIFELOG_HOME": str(home), "LANGUAGE": "", "LC_ALL": "", "LANG": "zh_CN.UTF-8"}  # defaults
    clips = [str(mandarin_clip(name)) for name in MANDARIN]
    report = lifelog_json("import", *clips, str(speak(ENGLISH, tmp_path / "contract.wav")), "--at", AT, env=env)
    assert [r["transcripts"] >= 1 for r in report] == [True, True, True]

    ctx = lifelog("context", "--since", SINCE, "--until", UNTIL, env=env).stdout
    heard = [line for _, body in heard_sections(ctx) for line in body.splitlines() if line.strip()]
    chinese = " ".join(line for line in heard if HANZI.search(line))
    assert char_recall("".join(MANDARIN.values()), chinese) >= 0.85, ctx
    assert all(line == to_simplified(line) for line in heard), ctx  # no Traditional-only character remains
    assert word_accuracy(ENGLISH, " ".join(line for line in heard if not HANZI.search(line))) >= 0.8, ctx

    for phrase in ("印度工厂", "漏洞免费"):  # four characters from inside a line (Whisper wrote 工廠, 免費)
        for query in (phrase, to_traditional(phrase)):  # either script finds the Simplified the locale asked for
            hits = lifelog_json("search", query, env=env)
            assert hits and hits[0]["source"] == "heard" and phrase in hits[0]["text"], (query, hits)
            assert hits[0]["language"] == "zh"
    (hit,) = lifelog_json("search", "legal team", env=env)
    assert hit["language"] == "en"

    lifelog("export", "-o", str(tmp_path / "t.jsonl"), env=env)
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()[1:]]
    assert {r["language"] for r in rows if r["type"] == "heard"} == {"zh", "en"}


def test_a_taiwanese_locale_keeps_traditional_and_simplified_finds_it(home):
    needs_base()
    env = {**os.environ, "LIFELOG_HOME": str(home), "LANGUAGE": "", "LC_ALL": "", "LANG": "zh_TW.UTF-8"}
    lifelog_json("import", str(mandarin_clip("kfc.wav")), "--at", AT, env=env)
    (hit,) = lifelog_json("search", "漏洞免费", env=env)  # as a mainland user would type it
    assert hit["source"] == "heard" and "漏洞免費" in hit["text"] and hit["text"] == to_traditional(hit["text"]), hit


@pytest.mark.parametrize(
    "setting,value,says",
    [
        ("ASR_MODEL", "small", "asr_model = 'small'"),
        ("ASR_MODEL", "bsae", "asr_model = 'bsae' is not a Whisper model lifelog knows (auto, tiny.en, base, small)"),
        ("ASR_LANGUAGE", "klingon", "asr_language = 'klingon' is not a language Whisper knows"),
        (
            "CHINESE_SCRIPT",
            "pinyin",
            "chinese_script = 'pinyin': must be one of auto, as-heard, simplified, traditional",
        ),
    ],
)
def test_bad_asr_settings_stop_an_import_before_anything_is_written(home, setting, value, says):
    clip = mandarin_clip("kfc.wav")
    env = {**os.environ, "LIFELOG_HOME": str(home), f"LIFELOG_{setting}": value}
    proc = lifelog("import", str(clip), "--at", AT, env=env, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and says in proc.stderr and "Traceback" not in proc.stderr
    assert not (home / "lifelog.duckdb").exists()
    proc = lifelog("process", env=env, check=False)  # what `record` and the daemon check first, too
    assert proc.returncode == 2 and says in proc.stderr
