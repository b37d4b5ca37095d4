"""The ASR registry: ids, one cached instance each, and errors a user can act on."""

from __future__ import annotations

import pytest

from lifelog.errors import EngineError, UnknownEngine
from lifelog.tokenize_media.asr import asr_ids, get_asr, missing_extra_error
from tests.support.speech import asr_require


def test_ids_put_the_default_first():
    assert asr_ids() == ["faster-whisper", "openai-whisper"]


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(UnknownEngine) as err:
        get_asr("whisper.cpp")
    assert "Unknown ASR engine 'whisper.cpp'" in str(err.value)
    assert "faster-whisper, openai-whisper" in str(err.value)
    assert err.value.exit_code == 2


def test_one_instance_per_id_path_and_device():
    asr_require("faster-whisper")
    assert get_asr("faster-whisper") is get_asr("faster-whisper")
    assert get_asr("faster-whisper", device="cpu") is not get_asr("faster-whisper")


@pytest.mark.parametrize(
    "id,module,extra",
    [
        ("faster-whisper", "faster_whisper", "audio"),
        ("openai-whisper", "torch", "openai-whisper"),
        ("openai-whisper", "whisper", "openai-whisper"),
    ],
)
def test_missing_extra_names_the_install_command(id, module, extra):
    error = missing_extra_error(id, ImportError(f"No module named '{module}'", name=module))
    assert isinstance(error, EngineError)
    assert f"needs {module}, which is not installed" in str(error)
    assert f"pip install 'lifelog[{extra}]'" in str(error)


def test_a_broken_dependency_is_reported_as_such():
    error = missing_extra_error("faster-whisper", ImportError("libcudnn.so.9: cannot open", name="libfoo"))
    assert "failed to import libfoo" in str(error) and "pip install 'lifelog[audio]'" in str(error)


def test_a_model_path_without_weights_is_refused(tmp_path):
    asr_require("faster-whisper")
    with pytest.raises(EngineError, match="No CTranslate2 Whisper model in .*model.bin, tokenizer.json missing"):
        get_asr("faster-whisper", model_path=str(tmp_path))
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(EngineError, match=r"\(tokenizer.json missing\)"):  # never fetched from the hub
        get_asr("faster-whisper", model_path=str(tmp_path))


@pytest.mark.parametrize("id", ["faster-whisper", "openai-whisper"])
def test_damaged_weights_raise_an_engine_error(id, tmp_path, home):
    asr_require(id)
    (tmp_path / "model.bin").write_bytes(b"\x06\x00\x00\x00garbage")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(EngineError, match=str(tmp_path)):
        get_asr(id, model_path=str(tmp_path))


@pytest.mark.parametrize("id", ["faster-whisper", "openai-whisper"])
def test_asking_for_a_missing_gpu_is_refused(id, home):
    asr_require(id)
    from lifelog.tokenize_media.asr.faster import resolve_device

    if resolve_device("auto") == "cuda":
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(EngineError, match="CUDA.*device='cpu'"):
        get_asr(id, device="cuda")
