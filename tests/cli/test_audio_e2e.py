"""Heard and seen in one timeline: a private PulseAudio, espeak-ng speaking into it while
`lifelog record` runs on a real X screen; imports of real and corrupt audio files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.helpers import lifelog, lifelog_json
from tests.support.pulse import PrivatePulse
from tests.support.sections import heard_sections
from tests.support.speech import speak, word_accuracy
from tests.support.wait import wait_for

SYSTEM_SAY = "Remember to send the weekly report before the team meeting on Friday."
MIC_SAY = "Please send the signed contract to the legal team tomorrow."


@pytest.fixture
def pulse():
    p = PrivatePulse()
    yield p
    p.stop()


@pytest.fixture
def env(screen, home, pulse):
    return {**pulse.env, "DISPLAY": screen.display, "LIFELOG_HOME": str(home)}


def test_speech_is_transcribed_into_the_timeline_in_order(screen, env, home, pulse, tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("Quarterly planning board\nalpha milestone checklist\n")
    second.write_text("Vendor contract tracker\nomega renewal deadline\n")
    system_wav, mic_wav = speak(SYSTEM_SAY, tmp_path / "sys.wav"), speak(MIC_SAY, tmp_path / "mic.wav")
    screen.show_text(first, title="planning")
    # stopped by Ctrl-C once both have played, not after a fixed time: on a loaded machine the
    # capture can take most of 30 s to start, and the second speech came after the end (CI)
    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--duration", "300s", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(
        lambda: pulse.recording_streams() >= 2 and any((home / "frames").glob("*/*")),
        timeout=90,
        what="system and mic capture and the first screen stored",
        process=rec,
    )
    time.sleep(1)
    pulse.play(system_wav, to="system")
    time.sleep(2)
    screen.close_windows()
    screen.show_text(second, title="contracts")
    time.sleep(2)
    pulse.play(mic_wav, to="mic")
    time.sleep(3)  # the last speech ends in silence, so the voice detector closes it
    rec.send_signal(signal.SIGINT)
    out, err = rec.communicate(timeout=400)
    assert rec.returncode == 0, err
    summary = json.loads(out)
    assert summary["audio_problems"] == {}
    assert summary["transcripts"] >= 2

    ctx = lifelog("context", "--since", "10m", "--budget", "8000", env=env).stdout
    heard = heard_sections(ctx)
    system = " ".join(body for h, body in heard if "system audio" in h)
    mic = " ".join(body for h, body in heard if "microphone" in h)
    assert word_accuracy(SYSTEM_SAY, system) >= 0.8, ctx
    assert word_accuracy(MIC_SAY, mic) >= 0.8, ctx
    # in time order relative to the screen text
    assert (
        ctx.index("alpha milestone")
        < ctx.index("heard · system audio")
        < ctx.index("omega renewal")
        < ctx.index("heard · microphone")
    ), ctx

    hits = lifelog_json("search", "weekly report", env=env)
    assert hits and hits[0]["source"] == "heard" and hits[0]["audio"] == "system"
    status = lifelog_json("status", env=env)
    assert status["pending_frames"] == 0


def test_silence_makes_no_transcripts(screen, env):
    summary = lifelog_json("record", "--duration", "8s", "--audio-source", "both", env=env)
    assert summary["audio_problems"] == {}
    assert summary["transcripts"] == 0 and summary["audio_chunks"] == 0
    assert summary["audio_silent_s"] > 5


def test_no_sound_server_keeps_recording_the_screen(screen, home, tmp_path):
    runtime = tmp_path / "no-pulse"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "DISPLAY": screen.display,
        "LIFELOG_HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_SERVER": f"unix:{runtime}/nothing-here",
    }
    proc = lifelog("record", "--duration", "8s", "--json", env=env)
    summary = json.loads(proc.stdout)
    assert summary["frames_kept"] >= 1
    assert set(summary["audio_problems"]) == {"mic", "system"}
    warnings = [line for line in proc.stderr.splitlines() if "warning: audio not recorded" in line]
    assert len(warnings) == 1 and "Screen recording continues" in warnings[0]


def test_import_wav_then_corrupt_file_fails_cleanly(home, tmp_path):
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    wav = speak(SYSTEM_SAY + " " + MIC_SAY, tmp_path / "meeting.wav")
    report = lifelog_json("import", str(wav), "--at", "2026-11-20T14:00:00+00:00", env=env)
    assert report[0]["transcripts"] >= 1
    ctx = lifelog(
        "context", "--since", "2026-11-20T13:59:00+00:00", "--until", "2026-11-20T14:10:00+00:00", env=env
    ).stdout
    assert "### 14:00:0" in ctx and "heard · imported recording" in ctx
    body = " ".join(b for _, b in heard_sections(ctx))
    assert word_accuracy(SYSTEM_SAY + " " + MIC_SAY, body) >= 0.8, ctx
    before = lifelog_json("status", env=env)

    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"ID3\x03\x00" + os.urandom(4000))
    proc = lifelog("import", str(bad), "--at", "1h", env=env, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "broken.mp3" in proc.stderr
    assert lifelog_json("status", env=env)["transcripts"] == before["transcripts"]


def test_sound_server_dying_mid_recording_does_not_stop_the_screen(screen, env, home, pulse, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("before the sound server died\n")
    screen.show_text(page, title="before")
    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--duration", "24s", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(
        lambda: pulse.recording_streams() >= 1 and any((home / "frames").glob("*/*")),
        timeout=90,
        what="audio capture and the first screen stored",
        process=rec,
    )
    time.sleep(1)
    pulse.proc.kill()  # the headset is gone, and the whole sound server with it
    time.sleep(2)
    screen.close_windows()
    page.write_text("after the sound server died\n")
    screen.show_text(page, title="after")
    out, err = rec.communicate(timeout=300)
    assert rec.returncode == 0, err
    assert "Traceback" not in err
    ctx = lifelog("context", "--since", "10m", env=env).stdout
    assert "before the sound server died" in ctx and "after the sound server died" in ctx


def test_unknown_asr_engine_lists_the_valid_ones(home, tmp_path):
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    wav = speak("hello", tmp_path / "hello.wav")
    proc = lifelog("import", str(wav), "--at", "1h", "--asr-engine", "whisper-xl", env=env, check=False)
    assert proc.returncode == 2
    assert "Unknown ASR engine 'whisper-xl'. Valid: faster-whisper, openai-whisper." in proc.stderr
