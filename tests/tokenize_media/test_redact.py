"""Secret redaction: every kind of secret is caught with the text around it kept; ordinary
text (git hashes, UUIDs, colours, versions, dates, numbers that fail Luhn, this repository's
code) is left alone; settings add and disable patterns; a frame's redacted lines are black in
the stored image (real OCR on a rendered page, real DuckDB)."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from lifelog.config import REDACT_PATTERN_NAMES, Settings
from lifelog.errors import ConfigError
from lifelog.tokenize_media.redact import BUILTIN, Redactor, black_out, default, iban_ok, luhn_ok
from tests.support.rows import transcripts_between

ROOT = Path(__file__).resolve().parents[2]

# (pattern, line as shown, the secret in it)
SECRETS = [
    ("aws-key", "export AWS_ACCESS_KEY_ID=AKIAZ7QK3M5R2XW4PLNB", "AKIAZ7QK3M5R2XW4PLNB"),
    (
        "aws-key",
        "aws_secret_access_key = Qm9vV3ZkR2xKcE5oT2ZrYjZ1eFp3aE1uUjBxTGQ5",
        "Qm9vV3ZkR2xKcE5oT2ZrYjZ1eFp3aE1uUjBxTGQ5",
    ),
    (
        "gcp-key",
        'maps key "AIzaSyD4xQ9b_Kc2Lm7Np0Rt3Vw6Yz8Ab1Cd2Ef" in config',
        "AIzaSyD4xQ9b_Kc2Lm7Np0Rt3Vw6Yz8Ab1Cd2Ef",
    ),
    ("openai-key", "OPENAI_API_KEY=sk-proj-4fTq9Lm2Xv8Rb6Nc1Hd7Kp3Wz5Yj0Ga", "sk-proj-4fTq9Lm2Xv8Rb6Nc1Hd7Kp3Wz5Yj0Ga"),
    ("openai-key", "key sk-9QwErTy8UiOp7AsDfGh6JkLzXcVbNm5 pasted", "sk-9QwErTy8UiOp7AsDfGh6JkLzXcVbNm5"),
    (
        "openai-key",
        "export 0PENAI_API_KEY=sk-proj -4fTq9Lm2Xv8Rb6Nc1Hd7Kp3Wz5Yj 0Ga",
        "sk-proj -4fTq9Lm2Xv8Rb6Nc1Hd7Kp3Wz5Yj 0Ga",
    ),
    ("aws-key", "staging key AKIAZ7QK3M5R2XW4 PLNB rotate monthly", "AKIAZ7QK3M5R2XW4 PLNB"),  # as OCR spaced them
    (
        "anthropic-key",
        "x-api-key: sk-ant-api03-Zx8Cv7Bn6Mq5Lw4Ke3Jr2Ht1Gy0Fu9Di8So7",
        "sk-ant-api03-Zx8Cv7Bn6Mq5Lw4Ke3Jr2Ht1Gy0Fu9Di8So7",
    ),
    (
        "github-token",
        "git clone https://ghp_R8s7T6u5V4w3X2y1Z0a9B8c7D6e5F4g3H2i1@github.com/o/r",
        "ghp_R8s7T6u5V4w3X2y1Z0a9B8c7D6e5F4g3H2i1",
    ),
    (
        "github-token",
        "GH_TOKEN=github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789",
        "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789",
    ),
    ("gitlab-token", "PRIVATE-TOKEN: glpat-Xy7Wv6Ut5Sr4Qp3On2Ml", "glpat-Xy7Wv6Ut5Sr4Qp3On2Ml"),
    (
        "slack-token",
        "SLACK_BOT_TOKEN=xoxb-284756019283-9182736450192-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-284756019283-9182736450192-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "jwt",
        "cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk expires",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ),
    ("bearer-token", "Authorization: Bearer 7f3a9c2e1b8d4f6a0e5c3b9d2a7f1e8c", "7f3a9c2e1b8d4f6a0e5c3b9d2a7f1e8c"),
    ("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----", "BEGIN OPENSSH PRIVATE KEY"),
    ("connection-string", "DATABASE_URL=postgres://billing:Tr0ub4dor3x@db.internal:5432/prod", "Tr0ub4dor3x"),
    ("card-number", "Visa 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("card-number", "card 5500-0000-0000-0004 on file", "5500-0000-0000-0004"),
    ("card-number", "amex 3782 822463 10005 ok", "3782 822463 10005"),
    ("card-number", "paid with 4111111111111111 today", "4111111111111111"),
    ("card-number", "OCR merged 4111 11111111 1111 here", "4111 11111111 1111"),
    # said aloud digit by digit, as tiny.en wrote it ("card" heard as "current")
    ("card-number", "The card number is 4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7.", "4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7"),
    (
        "card-number",
        "K with the current 4.5-3-9, 1-4-8-8, 0-3-4-3, 6-4-6-7 please",
        "4.5-3-9, 1-4-8-8, 0-3-4-3, 6-4-6-7",
    ),
    ("card-number", "The current number is 453 9148803436467", "453 9148803436467"),
    # Whisper base doubled digits (19 ones: fails Luhn) or tiny.en wrote 22 of them
    ("card-number", "My card number is 4111111111111111111", "4111111111111111111"),
    ("card-number", "card 4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 8 (one digit misheard)", "4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 8"),
    ("card-number", "My card number is 4,111,111,111,111,111,111,111.", "4,111,111,111,111,111,111,111"),
    ("iban", "IBAN DE89 3704 0044 0532 0130 00 for rent", "DE89 3704 0044 0532 0130 00"),
    ("iban", "to GB82WEST12345698765432 by Friday", "GB82WEST12345698765432"),
    ("password", "password: hunter2", "hunter2"),
    ("password", "DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ("password", '{"user": "ana", "password": "p4ss w"}'.replace(" w", "w0rd!"), "p4ssw0rd!"),
    ("password", "Wi-Fi 密码：qwe12345 (guest)", "qwe12345"),
    ("password", "secret = 'Zk3-mQ9-xR7'", "Zk3-mQ9-xR7"),
    ("password", "and the wifi password is tangerine42 for guests", "tangerine42"),  # a sentence, or speech
]


@pytest.mark.parametrize("name, line, secret", SECRETS, ids=[f"{s[0]}-{i}" for i, s in enumerate(SECRETS)])
def test_each_kind_of_secret_is_replaced_by_its_marker(name, line, secret):
    text, names = default().redact(line)
    assert secret not in text
    assert f"[redacted: {name}]" in text and names == [name]
    kept = [word for word in line.replace(secret, " ").split() if word.isalpha()]
    assert [word for word in kept if word not in text] == []  # the words around it stay


def test_every_built_in_pattern_is_exercised_and_named_in_config():
    assert {p.name for p in BUILTIN} == set(REDACT_PATTERN_NAMES) == {s[0] for s in SECRETS}


def _ordinary_sample() -> list[str]:
    rnd = random.Random(1515)
    lines = [f"{rnd.getrandbits(160):040x}" for _ in range(300)]
    lines += [f"commit {rnd.getrandbits(160):040x} Merge branch 'main' ({rnd.getrandbits(28):07x})" for _ in range(100)]
    lines += [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(300)]
    lines += [uuid.UUID(int=rnd.getrandbits(128)).hex.upper() for _ in range(100)]
    lines += [f"color: #{rnd.getrandbits(24):06x}; border: 1px solid #{rnd.getrandbits(24):06X}" for _ in range(100)]
    lines += [
        f"lifelog {rnd.randrange(9)}.{rnd.randrange(40)}.{rnd.randrange(99)} (duckdb 1.4.4, python 3.11.7)"
        for _ in range(50)
    ]
    lines += [
        f"{2020 + rnd.randrange(8)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}T"
        f"{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:{rnd.randrange(60):02d}.{rnd.randrange(10**6):06d}Z"
        for _ in range(100)
    ]
    phones = [f"+44 20 {rnd.randrange(1000, 9999)} {rnd.randrange(1000, 9999)}" for _ in range(50)]
    phones += [
        f"call 1-800-{rnd.randrange(100, 999)}-{rnd.randrange(1000, 9999)} ext {rnd.randrange(10, 99)}"
        for _ in range(50)
    ]
    numbers = [f"{rnd.randrange(4 * 10**15, 5 * 10**15)}" for _ in range(2000)]
    lines += phones + [f"order {n} shipped" for n in numbers if not luhn_ok(n)][:300]
    lines += [
        "Quarterly supplier report: invoice 4821 from Northwind is overdue (due 2026-11-30)",
        "The password must be at least 12 characters long.",
        "Forgot your password?",
        "Bearer tokens are described in RFC 6750.",
        "https://example.com/path?query=1#frag",
        "ssh git@github.com:owner/repo.git",
        "sha256:9f86d081884c7d659a2feaea0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",
    ]
    return lines


def test_ordinary_text_gives_no_hits():
    redactor = default()
    hits = [(line, redactor.redact(line)) for line in _ordinary_sample()]
    assert [(line, names) for line, (_, names) in hits if names] == []


def test_this_repositorys_code_gives_no_hits():
    files = sorted((ROOT / "src" / "lifelog" / "store").glob("*.py"))[:6] + [ROOT / "src/lifelog/replay/context.py"]
    lines = [line for f in files for line in f.read_text().splitlines() if line.strip()]
    assert len(lines) >= 300
    redactor = default()
    assert [line for line in lines if redactor.redact(line)[1]] == []


def test_look_alikes_that_fail_their_checks_are_kept():
    r = default()
    for line in (
        "card 4111 1111 1111 1112 (fails Luhn)",
        "IBAN DE88 3704 0044 0532 0130 00 (bad check digits)",
        "password = None",
        "password=self.password",
        "pwd = os.getcwd()",
        "password: Optional[str] = None",
        "Password: ********",
        "url = f'postgres://{user}:{password}@{host}'",
        "25 26 27 28 29 30 31  1  2  3  4  5  6",
        "seed = np.random.default_rng(4111111111111111)",
        "Your password is incorrect.",
        "The password is required",
        "if password is None:",
        "digits = [4, 5, 3, 9, 1, 4, 8, 8, 0, 3, 4, 3, 6, 4, 6, 7]",
        "4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7",
        "releases 2024-01-15, 2024-02-01, 2024-03-11 by number",
    ):
        assert r.redact(line) == (line, []), line
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")


def test_a_private_key_block_shown_line_by_line_is_redacted_whole():
    lines = [
        "ssh-keygen wrote this:",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
        "QyNTUxOQAAACDWf1Qm0N6uNq3p8yRk5mXo2VbZb7wzK2rPj3Tq6cU8kQAAAJg2cXLSNnFy",
        "-----END OPENSSH PRIVATE KEY-----",
        "$ ls ~/.ssh",
    ]
    out = default().redact_lines(lines)
    assert [t for t, _ in out] == ["ssh-keygen wrote this:"] + ["[redacted: private-key]"] * 4 + ["$ ls ~/.ssh"]
    whole = "key:\n" + "\n".join(lines[1:5]) + "\nafter"  # pasted text in one piece (an import, a transcript)
    assert default().redact(whole) == ("key:\n[redacted: private-key]\nafter", ["private-key"])


def test_settings_add_patterns_and_disable_built_ins():
    settings = Settings(
        redact_patterns={"employee-id": r"\bEMP-\d{6}\b", "pin": r"PIN (?P<secret>\d{4})"}, redact_disable=("iban",)
    ).validate()
    r = Redactor.from_settings(settings)
    text, names = r.redact("EMP-204817 changed PIN 0931; IBAN DE89 3704 0044 0532 0130 00; card 4111 1111 1111 1111")
    assert text == (
        "[redacted: employee-id] changed PIN [redacted: pin]; IBAN DE89 3704 0044 0532 0130 00; "
        "card [redacted: card-number]"
    )
    assert sorted(names) == ["card-number", "employee-id", "pin"]
    loose = Redactor.from_settings(Settings(redact_patterns={"digits": r"\d*"}).validate())  # empty matches too
    assert loose.redact("room 42 today") == ("room [redacted: digits] today", ["digits"])


def test_an_unknown_pattern_name_is_a_config_error_listing_the_names():
    with pytest.raises(ConfigError) as exc:
        Settings(redact_disable=("card-numbers",)).validate()
    message = str(exc.value)
    assert "redact_disable" in message and "'card-numbers'" in message and "card-number, iban" in message
    with pytest.raises(ConfigError, match="redact_patterns"):
        Settings(redact_patterns={"bad": "(unclosed"}).validate()


def test_json_values_are_redacted_inside():
    detail = {
        "question": "is AKIAZ7QK3M5R2XW4PLNB still valid?",
        "answer": "rotate it",
        "n": 3,
        "refs": ["4111 1111 1111 1111"],
    }
    out = default().redact_json(detail)
    assert out == {
        "question": "is [redacted: aws-key] still valid?",
        "answer": "rotate it",
        "n": 3,
        "refs": ["[redacted: card-number]"],
    }
    assert "AKIA" not in json.dumps(out)


def test_black_out_paints_only_inside_the_region():
    region = (100, 50, 300, 150)  # a partial frame's pixels
    image = np.full((100, 200, 3), 255, np.uint8)
    out = black_out(image, region, [(90, 60, 150, 70), (400, 60, 500, 70)], pad=0)
    assert (image == 255).all()  # a copy
    assert (out[10:20, 0:50] == 0).all() and (out[10:20, 50:] == 255).all() and (out[:10] == 255).all()
    assert black_out(image, region, [(400, 60, 500, 70)]) is image  # nothing inside: no copy


def test_pipeline_stores_the_marker_and_a_black_line(pipeline_home):
    """Real OCR of a rendered page with a card number: the span holds the marker, the stored
    frame is black over the line the OCR found it on, the other lines are stored as read. A
    line showing an excluded title (a taskbar button of a private window) goes whole."""
    from lifelog import spool
    from lifelog.ingest.frames import Pipeline
    from lifelog.models import SpooledFrame, WindowInfo
    from lifelog.store.images import FrameImages
    from lifelog.tokenize_media.ocr import get_engine
    from tests.support.pages import render

    paths, store = pipeline_home
    page = render(
        [
            "Quarterly supplier report for Northwind",
            "Payment card 4111 1111 1111 1111 on file",
            "Contact Maria Lopez about the delay",
            "Bank - Mozilla Firefox Private Browsing",
        ]
    ).image
    h, w = page.shape[:2]
    spool.write_frame(
        paths.spool,
        SpooledFrame(datetime(2026, 11, 24, 10), 1, w, h, (0, 0, w, h), True, WindowInfo("Writer", "notes"), page),
    )
    engine = get_engine()
    read = engine.recognize(page)
    card_boxes = [line.box for line in read if "1111" in line.text]
    title_boxes = [line.box for line in read if "Browsing" in line.text]
    assert card_boxes and title_boxes, "OCR did not read the card line or the title"
    pipe = Pipeline(store, paths, engine=engine, redactor=Redactor.from_settings(Settings().validate())).acquire()
    pipe.drain()
    pipe.release()
    with store.read() as r:
        spans = r.spans_between(None, None)
        frames = r.frames_between(None, None)
    texts = " | ".join(s.text for s in spans)
    assert "[redacted: card-number]" in texts and "1111" not in texts and "Northwind" in texts, texts
    assert "[redacted: excluded-title]" in texts and "Browsing" not in texts and "Bank" not in texts, texts
    stored = FrameImages(paths.frames).load(frames[0].image_ref)
    for x0, y0, x1, y1 in (title_boxes[0], card_boxes[0]):
        assert (stored[y0:y1, x0:x1] == 0).all()
    assert (stored[: y0 - 10] == page[: y0 - 10]).all()  # the lines above as they were


def test_transcripts_are_redacted_before_they_are_counted_and_stored():
    from types import SimpleNamespace

    from lifelog.ingest.audio import transcripts_for

    said = [
        SimpleNamespace(text=" my card is 4111 1111 1111 1111 thanks ", start=0.0, end=3.0, language="en"),
        SimpleNamespace(text="the project is blue falcon", start=3.0, end=5.0, language="en"),
    ]
    custom = Redactor.from_settings(Settings(redact_patterns={"codename": r"(?i)blue falcon"}).validate())
    rows = transcripts_for(said, datetime(2026, 11, 24, 10), "mic", "test", redactor=custom)
    assert [r.text for r in rows] == [
        "my card is [redacted: card-number] thanks",
        "the project is [redacted: codename]",
    ]
    assert transcripts_for(said[:1], datetime(2026, 11, 24, 10), "mic", "test")[0].text.count("[redacted:") == 1


def test_redacted_text_stays_as_it_is_when_redacted_again():
    """An export of a redacted timeline imported again (or a marker on screen) changes nothing."""
    r = default()
    for _, line, _ in SECRETS:
        once = r.redact(line)[0]
        assert r.redact(once) == (once, []), once


def test_a_password_heard_while_recording_is_stored_redacted(pipeline_home, asr_home, tmp_path):
    """A spooled microphone chunk of espeak-ng speech through the recorder's audio pipeline
    (real faster-whisper): the transcript keeps the sentence and the marker, not the password.
    (Played live through PulseAudio, tiny.en heard this sentence right in 1 of 3 runs: 'A server
    password in Tangerine', 'the past where the tenderine'.)"""
    from lifelog.ingest.audio import AudioPipeline
    from lifelog.spool.audio import Chunk, write_chunk
    from lifelog.tokenize_media.asr import get_asr
    from lifelog.tokenize_media.asr.base import SAMPLE_RATE
    from tests.support.speech import asr_require, have_espeak, place, speech_samples

    if not have_espeak():
        pytest.skip("espeak-ng is not installed")
    asr_require("faster-whisper")
    paths, store = pipeline_home
    speech = speech_samples("The server password is tangerine, change it on Friday.", tmp_path)
    samples = place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)
    write_chunk(paths.audio_spool, Chunk("mic", datetime(2026, 11, 24, 10), (samples * 32767).astype(np.int16)))
    settings = Settings(audio_source="none", redact_patterns={"codename": "(?i)blue falcon"}).validate()
    assert (
        AudioPipeline.from_settings(store, paths, settings).redactor.redact("blue falcon")[0] == "[redacted: codename]"
    )
    AudioPipeline(store, paths, engine=get_asr("faster-whisper"), redactor=Redactor.from_settings(settings)).drain()
    with store.read() as r:
        heard = " ".join(t.text for t in transcripts_between(r, None, None))
    assert "password is [redacted: password]" in heard and "Friday" in heard and "tangerine" not in heard.lower(), heard


def test_a_card_number_said_digit_by_digit_is_stored_redacted(pipeline_home, asr_home, tmp_path):
    """espeak-ng says a card number a digit at a time into a spooled microphone chunk; the
    recorder's audio pipeline (real faster-whisper) stores the sentence without its digits."""
    from lifelog.ingest.audio import AudioPipeline
    from lifelog.spool.audio import Chunk, write_chunk
    from lifelog.tokenize_media.asr import get_asr
    from lifelog.tokenize_media.asr.base import SAMPLE_RATE
    from lifelog.tokenize_media.asr.speech import transcribe_speech
    from tests.support.speech import asr_require, have_espeak, place, speech_samples

    if not have_espeak():
        pytest.skip("espeak-ng is not installed")
    asr_require("faster-whisper")
    paths, store = pipeline_home
    card = "4539148803436467"
    speech = speech_samples(f"The card number is {' '.join(card)}.", tmp_path)
    samples = place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)
    engine = get_asr("faster-whisper")
    plain = " ".join(s.text for s in transcribe_speech(engine, samples))
    if card not in re.sub(r"\D", "", plain):
        pytest.skip(f"Whisper did not hear the digits on this CPU: {plain!r}")  # nothing to redact
    write_chunk(paths.audio_spool, Chunk("mic", datetime(2026, 11, 24, 10), (samples * 32767).astype(np.int16)))
    AudioPipeline(store, paths, engine=engine, redactor=default()).drain()
    with store.read() as r:
        heard = " ".join(t.text for t in transcripts_between(r, None, None))
    assert "[redacted: card-number]" in heard and card not in re.sub(r"\D", "", heard), heard
