"""Keep lifelog's dependencies quiet: no telemetry, no downloads, no files outside lifelog's folders.

- ONNX Runtime (OCR, Silero VAD) starts a telemetry client when it is *imported*: it writes
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db}`` at once and
  looks up ``mobile.events.data.microsoft.com`` about 9 s later. Measured under strace with
  onnxruntime 1.32: only ``ORT_DISABLE_TELEMETRY=1`` set before that first import stops
  both; ``disable_telemetry_events()`` alone, or the variable set after the import, stops
  neither. So the variables are set at CLI entry and again before every model import, and
  the API is called as well, which keeps session events out of a client that some other
  code started first.
- huggingface_hub (imported by faster-whisper) reads its switches at import: offline, no
  telemetry.

``tests/test_privacy_audit.py`` runs lifelog's commands under strace and fails on any
internet socket or any write under HOME outside LIFELOG_HOME.
"""

from __future__ import annotations

import functools
import logging
import os
import sys

log = logging.getLogger(__name__)

# Forced, not defaults: lifelog promises to send nothing, whatever the shell says.
QUIET_ENV = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "OTEL_SDK_DISABLED": "true",  # the MCP SDK traces through OpenTelemetry when an SDK is installed
    "OTEL_TRACES_EXPORTER": "none",
}


def quiet_dependencies() -> None:
    """Set the switches that keep dependencies offline and silent; cheap and idempotent.

    Call it before anything imports onnxruntime, rapidocr_onnxruntime or faster_whisper.
    """
    if "onnxruntime" in sys.modules and os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
        log.warning("onnxruntime was imported before lifelog could disable its telemetry")
    os.environ.update(QUIET_ENV)


@functools.cache
def quiet_onnxruntime():
    """The ``onnxruntime`` module, imported with its telemetry off: use it to create sessions."""
    quiet_dependencies()
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime
