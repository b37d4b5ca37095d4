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


# -- no import cycle, no private name across modules ------------------------------------------
# Every import statement counts, wherever it is (module level, inside a function, under
# ``if TYPE_CHECKING:``): a deferred import still ties the two modules together. An edge goes
# from a module to the lifelog module it names: ``from lifelog.a import b`` names ``lifelog.a.b``
# when that is a module, else ``lifelog.a`` (a package's ``__init__``); a parent package is not
# counted as imported by its submodules' imports.


def _module_name(path: Path, root: Path = SRC) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _imported(path: Path, modules=MODULES, root: Path = SRC):
    """``(module, name)`` for each lifelog module ``path`` imports: ``name`` is what a ``from``
    import takes from it (None for a whole module)."""
    me = _module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((a.name, None) for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    yield f"{base}.{a.name}", None
                elif base in modules:
                    yield base, a.name


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _graph() -> dict[str, set[str]]:
    return {m: {t for t, _ in _imported(p) if t != m} for m, p in MODULES.items()}


def _private_imports():
    """``module imports _name from other``: a name another module keeps to itself."""
    for module, path in MODULES.items():
        for target, name in _imported(path):
            if name and name.startswith("_") and not name.startswith("__") and target != module:
                yield f"{module} imports {name} from {target}"


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_no_private_name_imported_from_another_module():
    assert list(_private_imports()) == []


def test_the_cycle_check_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    graph = _graph()
    graph["lifelog.errors"].add("lifelog.cli.app")  # a shared module reaching up: a cycle
    assert any("lifelog.errors" in c and "lifelog.cli.app" in c for c in _cycles(graph))


def test_the_import_reader_sees_deferred_relative_and_private_imports(tmp_path):
    pkg = tmp_path / "lifelog" / "x"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from lifelog.x.b import _hidden\n    from . import b\n")
    (pkg / "b.py").write_text("from lifelog.x import a, ready\n")
    root = tmp_path / "lifelog"
    modules = {_module_name(p, root): p for p in pkg.glob("*.py")}
    assert set(_imported(pkg / "a.py", modules, root)) == {("lifelog.x.b", None), ("lifelog.x.b", "_hidden")}
    assert set(_imported(pkg / "b.py", modules, root)) == {("lifelog.x.a", None), ("lifelog.x", "ready")}


# -- every exception in errors.py -----------------------------------------------------------------
# A class is an exception when one of its bases names one (``...Error``, ``...Exception``, or a
# lifelog exception).
EXCEPTIONS_ELSEWHERE: set[str] = set()


def _exception_names() -> set[str]:
    tree = ast.parse((SRC / "errors.py").read_text())
    return {n.name for n in tree.body if isinstance(n, ast.ClassDef)} | {"Exception", "BaseException"}


def _exceptions_outside_errors(known: set[str]):
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                    for b in node.bases
                }
                if any(b in known or b.endswith(("Error", "Exception")) for b in bases):
                    yield f"{rel}: {node.name}"


def test_every_exception_is_in_errors_py():
    assert set(_exceptions_outside_errors(_exception_names())) <= EXCEPTIONS_ELSEWHERE
