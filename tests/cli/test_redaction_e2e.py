"""Redaction canary: secrets shown on a real X screen, spoken in a recording, or carried in an
imported timeline never reach a byte of the data folder as text; the ordinary text beside them
is kept, the markers are searchable, and the stored frame is black where the secret was."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.cli.helpers import lifelog, lifelog_json

AWS = "AKIAZ7QK3M5R2XW4PLNB"
OPENAI = "sk-proj-4fTq9Lm2Xv8Rb6Nc1Hd7Kp3Wz5Yj0Ga"
CARD = "4111 1111 1111 1111"
PAGE = f"""Deployment checklist for the billing service
staging access key {AWS} rotate monthly
export OPENAI_API_KEY={OPENAI}
Customer card {CARD} expires next year
Contact Maria Lopez about the invoice backlog
"""
SCREEN_SECRETS = (AWS, OPENAI, CARD, CARD.replace(" ", ""), "4fTq9Lm2Xv8Rb6Nc1Hd7", "Z7QK3M5R2XW4")


def _files_holding(home: Path, needles) -> list[str]:
    """Every file under ``home`` whose bytes hold one of ``needles`` (UTF-8, any case), but the
    speech model's unpacked vocabulary under cache/asr (it holds every English word)."""
    found = []
    for path in home.rglob("*"):
        if path.is_file() and not path.relative_to(home).parts[:2] == ("cache", "asr"):
            data = path.read_bytes().lower()
            found += [f"{path.relative_to(home)}: {n}" for n in needles if n.lower().encode() in data]
    return found


def _bands(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Vertical spans of OCR boxes, one per line of text: boxes whose centres lie within half a
    box height of each other are one line (boxes of neighbouring lines may overlap a little)."""
    bands: list[list[int]] = []
    for y0, y1 in sorted(spans, key=lambda s: s[0] + s[1]):
        if bands and abs((y0 + y1) - (bands[-1][0] + bands[-1][1])) / 2 < (y1 - y0) / 2:
            bands[-1] = [min(bands[-1][0], y0), max(bands[-1][1], y1)]
        else:
            bands.append([y0, y1])
    return [(a, b) for a, b in bands]


@pytest.fixture
def env(home):
    return {**os.environ, "LIFELOG_HOME": str(home)}


@pytest.mark.xvfb
@pytest.mark.skipif(not (shutil.which("xterm") and shutil.which("xdotool")), reason="needs xterm and xdotool")
def test_secrets_on_screen_never_reach_disk_and_their_lines_are_black(screen, env, home, tmp_path):
    import mss

    from lifelog.paths import Paths
    from lifelog.store import Store
    from lifelog.store.images import FrameImages
    from lifelog.tokenize_media.ocr import get_engine

    page = tmp_path / "page.txt"
    page.write_text(PAGE)
    screen.show_text(page, title="checklist")
    env = {**env, "DISPLAY": screen.display}
    summary = lifelog_json("record", "--duration", "6s", "--no-audio", env=env)
    assert summary["frames_processed"] >= 1 and summary["left_in_spool"] == 0

    assert _files_holding(home, SCREEN_SECRETS) == []
    seen = " | ".join(h["text"] for h in lifelog_json("search", "redacted", "--limit", "50", env=env))
    for name in ("aws-key", "openai-key", "card-number"):
        assert f"[redacted: {name}]" in seen, seen
    assert lifelog_json("search", "Maria Lopez invoice", env=env)[0]["text"].startswith("Contact Maria Lopez")
    assert "Deployment checklist" in lifelog("context", "--since", "10m", env=env).stdout

    with getattr(mss, "MSS", mss.mss)() as grab:  # where the secret lines are: OCR of the screen as it still shows
        shot = np.asarray(grab.grab(grab.monitors[1]))[:, :, 2::-1]
    read = get_engine().recognize(np.ascontiguousarray(shot))
    rows = [line.box for line in read if any(k in line.text for k in ("1111", "AKIA", "PENAI", "staging", "Customer"))]
    rows = _bands([(b[1], b[3]) for b in rows])
    assert len(rows) == 3, (rows, [line.text for line in read])
    boxes = [line.box for line in read if any(y0 <= (line.box[1] + line.box[3]) / 2 <= y1 for y0, y1 in rows)]
    paths = Paths(home)
    with Store(paths.db).read() as r:
        frames = r.frames_between(None, None)
    images = FrameImages(paths.frames)
    checked = 0
    for frame in frames:
        image, (left, top, right, bottom) = images.load(frame.image_ref), frame.region
        for x0, y0, x1, y1 in boxes:
            x0, y0, x1, y1 = max(x0, left), max(y0, top), min(x1, right), min(y1, bottom)
            if x0 < x1 and y0 < y1:
                assert (image[y0 - top : y1 - top, x0 - left : x1 - left] == 0).all(), (
                    frame.image_ref,
                    (x0, y0, x1, y1),
                )
                checked += 1
    assert checked >= 3
    keyframe = images.load(frames[0].image_ref)
    assert (keyframe == 255).any(axis=2).sum() > 10_000  # the rest of the xterm is still white


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")
def test_a_secret_heard_in_an_imported_recording_is_redacted(env, home, tmp_path):
    """A password said aloud, a code name the user adds as a pattern, and a card number: the
    speech models double or drop its digits (tiny.en wrote '4,111,111,...', 22 digits; base 19
    ones), which fails Luhn, yet no run of them reaches disk."""
    from tests.support.speech import speak

    env = {**env, "LIFELOG_REDACT_PATTERNS": json.dumps({"codename": "(?i)blue\\s*falcon"})}  # not in a file here
    wav = speak(
        "The server password is tangerine, change it on Friday. The project code name is blue falcon, "
        f"keep it quiet. My card number is {CARD}.",
        tmp_path / "m.wav",
    )
    report = lifelog_json("import", str(wav), "--at", "2026-11-20T14:00:00+00:00", env=env)
    assert report[0]["transcripts"] >= 1
    heard = " ".join(h["text"] for h in lifelog_json("search", "server password project code name", env=env))
    assert "[redacted: password]" in heard and "[redacted: codename]" in heard and "Friday" in heard, heard
    assert _files_holding(home, ("tangerine", "falcon", "4111 1111", "4111111111111111")) == []


def test_an_imported_timeline_is_redacted_before_it_is_stored(env, home, tmp_path):
    rows = [
        {"lifelog": "timeline", "version": 1},
        {
            "type": "seen",
            "t_start": "2026-11-24T10:00:00Z",
            "t_end": "2026-11-24T10:01:00Z",
            "app": "xterm",
            "window": f"deploy {AWS}",
            "text": "token ghp_R8s7T6u5V4w3X2y1Z0a9B8c7D6e5F4g3H2i1 for CI",
        },
        {
            "type": "heard",
            "t_start": "2026-11-24T10:02:00Z",
            "t_end": "2026-11-24T10:02:05Z",
            "source": "mic",
            "text": f"the card is {CARD} thanks",
        },
        {
            "type": "event",
            "ts": "2026-11-24T10:03:00Z",
            "kind": "ask",
            "detail": {"question": f"is {OPENAI} still valid?", "answer": "rotate it"},
        },
    ]
    f = tmp_path / "laptop.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    lifelog("import", str(f), env=env)
    assert _files_holding(home, (AWS, OPENAI, CARD, "ghp_R8s7T6u5V4w3X2y1Z0a9B8c7D6e5F4g3H2i1")) == []
    out = tmp_path / "out.jsonl"
    lifelog("export", "--format", "jsonl", "-o", str(out), env=env)
    text = out.read_text()
    for name in ("github-token", "aws-key", "card-number", "openai-key"):
        assert f"[redacted: {name}]" in text, text
    assert "for CI" in text and "rotate it" in text
    lifelog("import", str(f), env=env)  # the same file again adds nothing
    assert lifelog_json("status", env=env)["text_spans"] == 1


def test_an_unknown_pattern_name_is_one_clear_line(env, home):
    proc = lifelog("config", "set", "redact_disable", '["card-numbers"]', env=env, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "redact_disable" in lines[0] and "card-number, iban" in lines[0], proc.stderr
    assert lifelog("config", "set", "redact_disable", '["iban"]', env=env).returncode == 0


def test_ask_keeps_the_question_and_answer_redacted(env, home):
    from lifelog.paths import Paths
    from lifelog.store import Store
    from tests.support.fake_openai import FakeOpenAI

    question = f"is {AWS} still the staging key?"
    with FakeOpenAI("json") as api:
        lifelog("ask", question, "--since", "1h", "--model", "gpt-4o", "--base-url", api.base_url, env=env)
    with Store(Paths(home).db).read() as r:
        (event,) = [e for e in r.events_between(None, None) if e["kind"] == "ask"]
    assert event["detail"]["question"] == "is [redacted: aws-key] still the staging key?"
    assert _files_holding(home, (AWS,)) == []
