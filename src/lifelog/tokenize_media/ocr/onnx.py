"""ONNX Runtime sessions for the OCR models: provider choice, session options, model location."""

from __future__ import annotations

import logging
from pathlib import Path

from lifelog.errors import EngineError
from lifelog.quiet import quiet_dependencies, quiet_onnxruntime

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def model_dir() -> Path:
    """The folder of ONNX models bundled in the rapidocr-onnxruntime wheel (no download)."""
    quiet_dependencies()  # importing rapidocr imports onnxruntime
    try:
        import rapidocr_onnxruntime
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EngineError(
            "rapidocr-onnxruntime is not installed; run `pip install rapidocr-onnxruntime==1.4.4`."
        ) from exc
    return Path(rapidocr_onnxruntime.__file__).resolve().parent / "models"


def providers() -> list[str]:
    """CUDA first when this onnxruntime build offers it, CPU always as the fallback."""
    onnxruntime = quiet_onnxruntime()

    available = onnxruntime.get_available_providers()
    return [CUDA, CPU] if CUDA in available else [CPU]


def open_session(path: Path, threads: int | None = None, *, fuse: bool = False):
    """An inference session for ``path``; ``threads`` caps intra-op threads (None: ORT's default).

    ``fuse`` first rewrites the graph in memory (``graph.fused_model_bytes``: affine blocks
    folded into convolutions, spelled-out hard-swish as one activation). Without the ``onnx``
    package, or if the rewrite or its session fails, the original model is used, with a warning.
    """
    onnxruntime = quiet_onnxruntime()

    if not path.is_file():
        raise EngineError(f"OCR model {path} is missing; reinstall rapidocr-onnxruntime==1.4.4.")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # A recorder shares the machine with its user: idle ORT threads must sleep, not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No memory arena: it keeps every buffer at its peak size for the life of the process (a
    # recorder runs for days); without it a 1080p page costs the same time and ~100 MB less.
    options.enable_cpu_mem_arena = False
    if threads:
        options.intra_op_num_threads = threads
    session = None
    if fuse:
        session = _fused_session(path, options, onnxruntime)
    if session is None:
        session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers())
    log.debug("opened %s with %s", path.name, session.get_providers())
    return session


def _fused_session(path: Path, options, onnxruntime):
    """A session on the rewritten graph of ``path``, or None (logged) when that cannot be had."""
    try:
        from lifelog.tokenize_media.ocr.graph import fused_model_bytes

        model = fused_model_bytes(path)
        return onnxruntime.InferenceSession(model, sess_options=options, providers=providers())
    except ImportError as exc:
        log.warning("%s: graph rewrite skipped (%s); install `onnx` for faster OCR", path.name, exc)
    except Exception as exc:
        log.warning("%s: graph rewrite failed (%s: %s); using the original model", path.name, type(exc).__name__, exc)
    return None
