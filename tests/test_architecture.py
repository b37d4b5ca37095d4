"""Imports point one way: shared <- store, capture, tokenize_media <- ingest, replay <- api <-
daemon <- cli. ``tokenize_media`` (engines, tokenizers, embedders) imports nothing above the
shared modules; ``ingest`` (spool -> store) is used by the owner (daemon), ``lifelog
process`` and ``lifelog import`` alone, never by replay or the api. Capture never imports a
model runtime."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lifelog"
SHARED = {"errors", "paths", "models", "spool", "timespec", "config", "quiet", "__init__"}
ALLOWED = {
    "shared": {"shared"},
    "store": {"shared", "store"},
    "capture": {"shared", "store", "capture"},
    "tokenize_media": {"shared", "tokenize_media"},
    "ingest": {"shared", "store", "tokenize_media", "ingest"},
    "replay": {"shared", "store", "capture", "tokenize_media", "replay"},
    "api": {"shared", "store", "capture", "tokenize_media", "replay", "api"},
    "daemon": {"shared", "store", "capture", "tokenize_media", "ingest", "replay", "api", "daemon"},
    "cli": {"shared", "store", "capture", "tokenize_media", "ingest", "replay", "api", "daemon", "cli"},
}
# Of the layers allowed ingest, the modules that may use it: the owner, `lifelog process`, `lifelog import`.
INGEST_USERS = ("ingest/", "daemon/", "cli/record.py", "cli/importing.py")
MODEL_RUNTIMES = {"onnxruntime", "rapidocr_onnxruntime", "faster_whisper", "whisper", "ctranslate2", "torch"}


def _layer(parts: tuple[str, ...]) -> str:
    return "shared" if parts[0].removesuffix(".py") in SHARED else parts[0]


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _problem(rel: Path, name: str) -> str | None:
    """What is wrong with module ``rel`` (relative to the package) importing ``name``, if anything."""
    layer = _layer(rel.parts)
    top = name.split(".")[0]
    if layer == "capture" and top in MODEL_RUNTIMES:
        return f"{rel} imports model runtime {name}"
    if top != "lifelog" or name == "lifelog":
        return None
    target = _layer(tuple(name.split(".")[1:]))
    if target not in ALLOWED[layer]:
        return f"{rel} ({layer}) imports {name} ({target})"
    if target == "ingest" and not rel.as_posix().startswith(INGEST_USERS):
        return f"{rel} imports {name}: only the owner, `lifelog process` and `lifelog import` use ingest"
    return None


def _violations():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        for name in _imports(path):
            if (problem := _problem(rel, name)) is not None:
                yield problem


def test_imports_point_one_way():
    assert list(_violations()) == []


def test_the_check_catches_a_wrong_import():
    assert _problem(Path("store/x.py"), "lifelog.replay.context")
    assert _problem(Path("capture/x.py"), "onnxruntime")
    assert _problem(Path("tokenize_media/x.py"), "lifelog.store")  # engines write nothing
    assert _problem(Path("replay/x.py"), "lifelog.ingest.frames")  # replay counts tokens, never ingests
    assert _problem(Path("api/ask.py"), "lifelog.ingest.audio")
    assert _problem(Path("cli/read.py"), "lifelog.ingest.frames")  # a read command never writes the spool's way
    assert _problem(Path("cli/importing.py"), "lifelog.ingest.audio") is None
    assert _problem(Path("daemon/recorder.py"), "lifelog.ingest.frames") is None
    assert _problem(Path("ingest/frames.py"), "lifelog.tokenize_media.redact") is None
