"""OCR engines behind one interface, chosen by string id.

    engine = get_engine()                # "ppocr-v4", loaded on first use, then cached
    lines = engine.recognize(rgb_frame)  # list[OcrLine] in reading order
    reader = ScreenReader(engine)        # incremental reading of one monitor

Engine modules (and onnxruntime behind them) are imported only when an engine is first asked
for, so importing lifelog does not pay for models it may never use.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

from lifelog.errors import UnknownEngine
from lifelog.tokenize_media.ocr.base import OcrEngine
from lifelog.tokenize_media.ocr.incremental import ReadResult, ScreenReader

log = logging.getLogger(__name__)

DEFAULT_ENGINE = "ppocr-v4"

_REGISTRY: dict[str, str] = {
    "ppocr-v4": "lifelog.tokenize_media.ocr.ppocr:PpOcrV4",
}
_instances: dict[str, OcrEngine] = {}
_lock = threading.Lock()


def engine_ids() -> list[str]:
    """Ids accepted by ``get_engine``."""
    return sorted(_REGISTRY)


def get_engine(id: str = DEFAULT_ENGINE, **opts: Any) -> OcrEngine:
    """The engine for ``id``, created on first call with ``opts`` and reused afterwards.

    Options only apply when the engine is first created; later calls return the cached
    instance as it is (one loaded model set per process is the point of the cache).
    """
    if id not in _REGISTRY:
        raise UnknownEngine("OCR", id, engine_ids())
    with _lock:
        if id not in _instances:
            module_name, class_name = _REGISTRY[id].split(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            _instances[id] = cls(**opts)
            log.info("OCR engine %s ready (%s)", id, ", ".join(_instances[id].providers))
        elif opts:
            log.debug("OCR engine %s already loaded; ignoring options %s", id, sorted(opts))
        return _instances[id]


__all__ = ["DEFAULT_ENGINE", "OcrEngine", "ReadResult", "ScreenReader", "engine_ids", "get_engine"]
