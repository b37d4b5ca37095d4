"""The audio decoder on real files: espeak-ng WAV, sox FLAC, PyAV-encoded MP3/M4A, and junk."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from lifelog.errors import UsageError
from lifelog.tokenize_media.asr.audio_io import decode_audio
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from tests.support.speech import needs_espeak, speak

av = pytest.importorskip("av", reason="PyAV comes with the audio extra")

TONE_SECONDS = 2.0


def tone(rate: int = 44_100) -> np.ndarray:
    t = np.arange(int(TONE_SECONDS * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def encode(path, codec: str, rate: int = 44_100, layout: str = "stereo"):
    """Write a 2 s 440 Hz tone with one of PyAV's bundled FFmpeg encoders."""
    channels = 2 if layout == "stereo" else 1
    source = av.AudioFrame.from_ndarray(np.tile(tone(rate), (channels, 1)), format="fltp", layout=layout)
    source.sample_rate = rate
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        context = stream.codec_context
        resampler = av.AudioResampler(context.format.name, layout, rate, frame_size=context.frame_size or None)
        for frame in [*resampler.resample(source), *resampler.resample(None), None]:
            for packet in stream.encode(frame):
                container.mux(packet)
    return path


def assert_tone(samples: np.ndarray, tolerance: float = 0.15):
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / SAMPLE_RATE - TONE_SECONDS) < tolerance
    spectrum = np.abs(np.fft.rfft(samples[:SAMPLE_RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2  # 1 s of samples: bin k is k Hz
    assert 0.3 < np.abs(samples).max() <= 1.0


@needs_espeak
def test_espeak_wav_decodes_to_16k_mono(tmp_path):
    path = speak("The budget review starts now.", tmp_path / "meeting.wav")
    seconds = (path.stat().st_size - 44) / (2 * 22_050)  # espeak-ng: 16-bit mono 22.05 kHz PCM
    samples = decode_audio(path)
    assert samples.dtype == np.float32
    assert abs(samples.size / SAMPLE_RATE - seconds) < 0.05
    assert np.abs(samples).max() <= 1.0


@pytest.mark.parametrize("name,codec", [("tone.mp3", "libmp3lame"), ("tone.m4a", "aac"), ("tone.wav", "pcm_s16le")])
def test_compressed_stereo_files_decode(tmp_path, name, codec):
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg build has no {codec} encoder")
    assert_tone(decode_audio(encode(tmp_path / name, codec)))


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_flac_from_sox_decodes(tmp_path):
    wav = encode(tmp_path / "tone.wav", "pcm_s16le", rate=48_000)
    flac = tmp_path / "tone.flac"
    subprocess.run(["sox", str(wav), str(flac)], check=True, capture_output=True)
    assert_tone(decode_audio(flac))


@pytest.mark.parametrize(
    "name,content",
    [
        ("meeting.wav", np.random.default_rng(0).bytes(4000)),
        ("header.wav", b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"),
        ("empty.flac", b""),
        ("notes.mp3", b"these are my meeting notes, not audio\n" * 20),
    ],
)
def test_corrupt_files_raise_usage_error_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError, match=rf"Cannot decode {name}: "):
        decode_audio(path)


def test_truncated_wav_yields_the_audio_before_the_cut(tmp_path):
    whole = encode(tmp_path / "whole.wav", "pcm_s16le", rate=SAMPLE_RATE, layout="mono")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + SAMPLE_RATE * 2])  # header + 1 s of 16-bit samples
    assert abs(decode_audio(cut).size - SAMPLE_RATE) < 200


def test_missing_file_raises_usage_error(tmp_path):
    with pytest.raises(UsageError, match="Cannot decode gone.wav: no such file"):
        decode_audio(tmp_path / "gone.wav")


def test_a_file_without_audio_is_refused(tmp_path):
    path = tmp_path / "screen.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=2)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(UsageError, match="screen.mp4: it has no audio stream"):
        decode_audio(path)
