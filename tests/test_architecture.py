"""Imports point one way: shared <- store <- capture, tokenize_media <- replay <- api <- daemon <- cli.
Capture never imports a model runtime."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lifelog"
SHARED = {"errors", "paths", "models", "spool", "timespec", "config", "quiet", "__init__"}
ALLOWED = {
    "shared": {"shared"},
    "store": {"shared", "store"},
    "capture": {"shared", "store", "capture"},
    "tokenize_media": {"shared", "store", "tokenize_media"},
    "replay": {"shared", "store", "capture", "tokenize_media", "replay"},
    "api": {"shared", "store", "capture", "tokenize_media", "replay", "api"},
    "daemon": {"shared", "store", "capture", "tokenize_media", "replay", "api", "daemon"},
    "cli": {"shared", "store", "capture", "tokenize_media", "replay", "api", "daemon", "cli"},
}
MODEL_RUNTIMES = {"onnxruntime", "rapidocr_onnxruntime", "faster_whisper", "whisper", "ctranslate2", "torch"}


def _layer(parts: tuple[str, ...]) -> str:
    return "shared" if parts[0].removesuffix(".py") in SHARED else parts[0]


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _violations():
    for path in SRC.rglob("*.py"):
        layer = _layer(path.relative_to(SRC).parts)
        for name in _imports(path):
            top = name.split(".")[0]
            if layer == "capture" and top in MODEL_RUNTIMES:
                yield f"{path.relative_to(SRC)} imports model runtime {name}"
            if top != "lifelog" or name == "lifelog":
                continue
            target = _layer(tuple(name.split(".")[1:]))
            if target not in ALLOWED[layer]:
                yield f"{path.relative_to(SRC)} ({layer}) imports {name} ({target})"


def test_imports_point_one_way():
    assert list(_violations()) == []


def test_the_check_catches_a_wrong_import(tmp_path, monkeypatch):
    bad = SRC / "store" / "_tmp_bad_import.py"
    bad.write_text("from lifelog.replay import context\n")
    try:
        assert any("_tmp_bad_import" in v for v in _violations())
    finally:
        bad.unlink()
