"""Privacy audit: lifelog's commands, run under strace, open no internet socket and write
nothing under HOME outside LIFELOG_HOME.

This is what catches a dependency phoning home (ONNX Runtime's telemetry looks up
mobile.events.data.microsoft.com and writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime)
or leaving caches in the user's home. The commands run for real: a recording of an xterm on
a private Xvfb screen (OCR), an import of espeak-ng speech (VAD + Whisper), search, context,
an MCP session (``lifelog mcp`` asked by the SDK's client), forget (which rewrites the database file).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.support.speech import speak

TOOLS = ("strace", "Xvfb", "xterm", "xdotool", "espeak-ng")
missing = [tool for tool in TOOLS if not shutil.which(tool)]
pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (scripts/install.sh --test installs them)"),
]

PAGE = "Quarterly supplier report\nInvoice 4821 from Northwind Traders is overdue\n"
SAID = "Please send the signed contract to the legal team tomorrow."
# Switches a developer's shell may set: the audit must prove lifelog sets them itself.
QUIETING_ENV = (
    "ORT_DISABLE_TELEMETRY",
    "HF_HUB_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
)

STRACE = ("-ff", "-qq", "-y", "-e", "trace=%network,%file", "-e", "signal=none")  # one trace file per process
INET = re.compile(r"AF_INET6?\b")
CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(.*)$")
PATH_ARG = re.compile(r'(?:(?:AT_FDCWD|\d+)<([^>]*)>,\s*)?"((?:[^"\\]|\\.)*)"')
OPENS = {"open", "openat", "openat2"}
WRITE_FLAGS = re.compile(r"\bO_(?:WRONLY|RDWR|CREAT|TRUNC|APPEND)\b")
CHANGES = {
    "creat",
    "mkdir",
    "mkdirat",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "rmdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "truncate",
    "mknod",
    "mknodat",
    "chmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "lchown",
    "fchownat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
}


@pytest.fixture(scope="module")
def strace_works():
    proc = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"strace cannot trace here (is ptrace allowed?): {proc.stderr.strip()}")


def test_commands_open_no_inet_socket_and_write_only_inside_lifelog_home(strace_works, screen, tmp_path):
    home = tmp_path / "home"
    data = home / "lifelog"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in QUIETING_ENV and not k.startswith("XDG_")}
    env.update(HOME=str(home), LIFELOG_HOME=str(data), DISPLAY=screen.display, LIFELOG_PASSPHRASE="audit passphrase")
    page, speech = tmp_path / "page.txt", speak(SAID, tmp_path / "said.wav")
    page.write_text(PAGE)
    screen.show_text(page, title="report")

    runs = [
        ("record", "--duration", "12s", "--no-audio"),  # ORT's uploader first looks up its host ~9 s in
        ("process",),
        ("import", str(speech), "--at", "1h"),
        ("index", "--json"),  # embeds the imported minutes with the bundled e5 model
        ("encrypt", "--json"),  # httpfs's OpenSSL, loaded offline; the reads below open the encrypted file
        ("search", "northwind"),
        ("context", "--since", "2h"),
        ("config", "set", "storage_max", "20GB"),  # measures a recorded day from the data folder
        ("status", "--json"),  # bytes on disk by kind, free disk, the last retention pass (record ran one)
        ("forget", "--since", "2h", "--yes"),  # deletes, rewrites and swaps the database file
        ("decrypt", "--json"),
    ]
    problems, outputs = [], {}
    for i, args in enumerate(runs):
        out, trace = _traced(args, env, cwd=home, trace_dir=tmp_path / f"trace{i}")
        outputs[args[0]] = out
        problems += [f"lifelog {args[0]}: {p}" for p in _violations(trace, home, data)]
        if args[0] == "context":  # an agent's session over the same (encrypted) timeline
            outputs["mcp"], trace = _traced_mcp(env, tmp_path / "trace-mcp")
            problems += [f"lifelog mcp: {p}" for p in _violations(trace, home, data)]

    # the commands really ran the models: otherwise the audit would prove nothing
    assert "Northwind" in outputs["search"], outputs["search"]
    assert "contract" in outputs["context"].lower(), outputs["context"]
    assert "Northwind" in outputs["mcp"], outputs["mcp"]
    assert json.loads(outputs["index"])["embedded"] > 0, outputs["index"]
    assert outputs["forget"].startswith("Forgot "), outputs["forget"]
    assert json.loads(outputs["encrypt"])["database"] == "encrypted", outputs["encrypt"]
    assert json.loads(outputs["decrypt"])["database"] == "decrypted", outputs["decrypt"]
    assert not problems, "lifelog reached the network or wrote outside LIFELOG_HOME:\n" + "\n".join(problems)


def _traced(args: tuple[str, ...], env: dict, cwd: Path, trace_dir: Path) -> tuple[str, list[Path]]:
    """Run ``lifelog ARGS`` under strace (one trace file per process); its stdout and traces."""
    trace_dir.mkdir()
    cmd = [
        "strace",
        *STRACE,
        "-o",
        str(trace_dir / "t"),
        sys.executable,
        "-m",
        "lifelog.cli.app",
        *args,
    ]
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"lifelog {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
    return proc.stdout, sorted(trace_dir.iterdir())


def _traced_mcp(env: dict, trace_dir: Path) -> tuple[str, list[Path]]:
    """``lifelog mcp`` under strace, asked by a real MCP client to search and build a window."""
    trace_dir.mkdir()
    server = StdioServerParameters(
        command="strace",
        args=[*STRACE, "-o", str(trace_dir / "t"), sys.executable, "-m", "lifelog.cli.app", "mcp"],
        env=env,
        cwd=env["HOME"],
    )

    async def run():
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            found = await session.call_tool("search", {"query": "northwind"})
            window = await session.call_tool("context", {"since": "2h", "budget": 4000})
            return "".join(c.text for r in (found, window) for c in r.content if c.type == "text")

    return anyio.run(run), sorted(trace_dir.iterdir())


def _violations(traces: list[Path], home: Path, data: Path) -> list[str]:
    """Internet sockets and addresses, and file changes under ``home`` outside ``data``."""
    found = []
    for trace in traces:
        for line in trace.read_text(errors="replace").splitlines():
            match = CALL.match(line)
            if not match:
                continue
            call, args, _ = match.groups()
            if (call == "socket" and INET.match(args)) or "sa_family=AF_INET" in args:
                found.append(line[:200])
            elif any(_outside(p, home, data) for p in _changed_paths(match, home)):
                found.append(line[:200])
    return sorted(set(found))


def _changed_paths(match: re.Match, cwd: Path) -> list[Path]:
    """The paths a traced call creates, writes, renames, removes or re-permissions ([] for reads)."""
    call, args, ret = match.groups()
    if call in OPENS:
        if not WRITE_FLAGS.search(args):
            return []
        opened = re.search(r"^\d+<(.*)>$", ret)  # -y names the file behind the returned descriptor
        if opened:
            return [Path(opened.group(1))]
    elif call not in CHANGES:
        return []
    names = [(Path(base) if base else cwd) / name for base, name in PATH_ARG.findall(args)]
    return names[-1:] if call.startswith("symlink") else names  # a symlink's target is only text


def _outside(path: Path, home: Path, data: Path) -> bool:
    path = Path(os.path.normpath(path))
    return path.is_relative_to(home) and not path.is_relative_to(data)
