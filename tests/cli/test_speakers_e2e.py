"""Who spoke, end to end with real voices (never espeak variants: they do not separate): a
recording of an English and a Mandarin speaker taking turns is imported with the default
settings, divided into two speakers with >= 90 % of the speech time attributed right; a voice
named once keeps its name in a second recording; the names travel in JSONL; forget takes the
voices with the speech."""

from __future__ import annotations

import json
import os
import wave
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.cli.helpers import lifelog
from tests.cli.helpers import lifelog_json as _lifelog_json

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
EN, ZH = TESTDATA / "speech-en" / "test-2.mp3", TESTDATA / "speech-zh" / "foxconn.wav"
KFC = TESTDATA / "speech-zh" / "kfc.wav"
AT = datetime(2026, 11, 20, 14, 0)

pytestmark = pytest.mark.skipif(not (EN.is_file() and ZH.is_file()), reason=f"needs the real speech in {TESTDATA}")


def lifelog_json(*args: str, env: dict, raw: bool = False):
    """``lifelog ... --json``; with ``raw``, the rows of a JSONL export (no --json)."""
    if raw:
        return [json.loads(line) for line in lifelog(*args, env=env).stdout.splitlines()[1:]]
    return _lifelog_json(*args, env=env)


def _write(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _turns(tmp_path: Path) -> tuple[Path, list[tuple[float, float, str]]]:
    """English 8 s, Mandarin 8 s, English 9.5 s, with half-second pauses; the truth in seconds."""
    from lifelog.tokenize_media.asr.audio_io import decode_audio

    en, zh = decode_audio(EN), decode_audio(ZH)
    pause = np.zeros(8000, np.float32)
    parts = [(en[: 8 * 16000], "en"), (zh, "zh"), (en[8 * 16000 :], "en")]
    samples, truth, t = [], [], 0.0
    for audio, who in parts:
        samples += [audio, pause]
        truth.append((t, t + len(audio) / 16000, who))
        t += (len(audio) + len(pause)) / 16000
    return _write(tmp_path / "call.wav", np.concatenate(samples)), truth


def _seconds(t: str) -> float:
    return (datetime.fromisoformat(t.replace("Z", "")) - AT).total_seconds()


@pytest.fixture
def env(home):
    return {**os.environ, "LIFELOG_HOME": str(home), "LANG": "C.UTF-8"}


def test_two_real_voices_are_told_apart_named_and_kept_across_recordings(env, home, tmp_path):
    call, truth = _turns(tmp_path)
    report = lifelog_json("import", str(call), "--at", AT.isoformat() + "Z", env=env)
    assert report[0]["speakers"] == 2, report

    voices = lifelog_json("speakers", env=env)
    assert len(voices) == 2 and {v["speaker"] for v in voices} == {"Speaker 1", "Speaker 2"}, voices
    heard = [h for h in lifelog_json("export", env=env, raw=True) if h["type"] == "heard"]
    assert all(h.get("speaker") in ("Speaker 1", "Speaker 2") for h in heard), heard

    # speech time attributed right: each transcript's time inside each truth turn, by its speaker
    who = {}
    for h in heard:
        lo, hi = _seconds(h["t_start"]), _seconds(h["t_end"])
        for a, b, person in truth:
            who.setdefault(h["speaker"], {}).setdefault(person, 0.0)
            who[h["speaker"]][person] += max(0.0, min(hi, b) - max(lo, a))
    label = {max(people, key=people.get): speaker for speaker, people in who.items()}
    assert set(label) == {"en", "zh"}, who
    right = sum(who[label[p]][p] for p in ("en", "zh"))
    total = sum(sum(people.values()) for people in who.values())
    assert right / total >= 0.9, who

    ctx = lifelog(
        "context", "--since", AT.isoformat() + "Z", "--until", (AT + timedelta(hours=1)).isoformat() + "Z", env=env
    )
    assert f"· heard · imported recording · {label['en']}" in ctx.stdout
    assert f"· heard · imported recording · {label['zh']}" in ctx.stdout

    # naming: bad names and unknown voices are one line, exit 2, nothing changed
    zh_number = label["zh"].split()[-1]
    for args, said in (
        (("99", "Dana"), "No speaker '99' was heard"),
        ((zh_number, "Speaker 7"), "Bad speaker name"),
        ((zh_number, "   "), "Bad speaker name"),
    ):
        proc = lifelog("speakers", "name", *args, env=env, check=False)
        assert proc.returncode == 2 and said in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    named = lifelog_json("speakers", "name", zh_number, "Li Wei", env=env)
    assert named["speaker"] == "Li Wei" and named["was"] == label["zh"]
    taken = lifelog("speakers", "name", label["en"], "li wei", env=env, check=False)
    assert taken.returncode == 2 and "taken" in taken.stderr
    assert {v["speaker"] for v in lifelog_json("speakers", env=env)} == {"Li Wei", label["en"]}

    # two voices in one recording are a call, named as its voices are now; a question naming
    # one finds it
    calls = [e for e in lifelog_json("export", env=env, raw=True) if e.get("kind") == "call"]
    assert len(calls) == 1 and sorted(calls[0]["detail"]["speakers"]) == sorted(["Li Wei", label["en"]]), calls
    day = ("--since", AT.isoformat() + "Z", "--until", (AT + timedelta(hours=1)).isoformat() + "Z")
    assert "· call with " in lifelog("context", *day, env=env).stdout
    asked = lifelog("context", *day, "--query", "the call with Li Wei", "--budget", "400", env=env).stdout
    assert "call with" in asked and "· Li Wei" in asked, asked

    # the same Mandarin voice in a second recording is Li Wei from the start
    later = AT + timedelta(hours=2)
    lifelog("import", str(KFC), "--at", later.isoformat() + "Z", env=env)
    second = lifelog_json("search", "肯德基", "--since", later.isoformat() + "Z", env=env)
    assert second and second[0]["speaker"] == "Li Wei", second
    only_li = lifelog_json("search", "New York Times", "--speaker", "Li Wei", env=env)
    assert all(h["speaker"] == "Li Wei" for h in only_li)
    en_hits = lifelog_json("search", "New York Times", "--speaker", label["en"], env=env)
    assert en_hits and all(h["speaker"] == label["en"] for h in en_hits)
    assert "Li Wei" in lifelog("search", "肯德基", env=env).stdout

    # the names travel in JSONL: another timeline shows the same labels
    exported = tmp_path / "all.jsonl"
    lifelog("export", "-o", str(exported), env=env)
    other = {**env, "LIFELOG_HOME": str(tmp_path / "other")}
    lifelog("import", str(exported), env=other)
    assert {v["speaker"] for v in lifelog_json("speakers", env=other)} == {"Li Wei", label["en"]}
    assert lifelog_json("search", "肯德基", "--speaker", "li", env=other)[0]["speaker"] == "Li Wei"

    # forget: a voice's embedding goes with the last of its speech
    report = lifelog_json("forget", "--since", later.isoformat() + "Z", "--yes", env=env)
    assert report["voices"] == 0  # Li Wei still spoke in the first recording
    report = lifelog_json("forget", "--since", AT.isoformat() + "Z", "--yes", env=env)
    assert report["voices"] == 2 and lifelog_json("speakers", env=env) == []


def test_one_voice_is_one_speaker_and_speakers_can_be_turned_off(env, tmp_path):
    said = lifelog("import", str(EN), "--at", AT.isoformat() + "Z", env=env).stderr
    assert "one speaker (" in said and "s of speech)" in said, said
    assert [v["speaker"] for v in lifelog_json("speakers", env=env)] == ["Speaker 1"]
    off = {**env, "LIFELOG_SPEAKERS": "false"}
    later = (AT + timedelta(hours=1)).isoformat() + "Z"
    report = lifelog_json("import", str(EN), "--at", later, env=off)
    assert report[0]["speakers"] == 0
    hits = lifelog_json("search", "New York Times", "--since", later, env=env)
    assert hits and all("speaker" not in h for h in hits)
    proc = lifelog("search", "Times", "--speaker", "Nobody", env=env, check=False)
    assert proc.returncode == 1 and "No matches" in proc.stderr
    tones = tmp_path / "tones.wav"  # music, no words: no speaker made up
    t = np.arange(8 * 16000) / 16000
    _write(tones, 0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 660 * t))
    report = lifelog_json("import", str(tones), "--at", (AT + timedelta(hours=3)).isoformat() + "Z", env=env)
    assert report[0]["transcripts"] == 0 and report[0]["speakers"] == 0
    assert [v["speaker"] for v in lifelog_json("speakers", env=env)] == ["Speaker 1"]
