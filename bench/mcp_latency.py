"""MCP ``search``, ``context``, ``now`` and ``frame`` latency through the owner (issue 18), side by
side with the socket alone and with the CLI.

    .venv/bin/python bench/mcp_latency.py [--seed-spans 20000] [--calls 15] [--cli-runs 5] [--starts 3]

The last hour of a fresh LIFELOG_HOME is seeded with ``--seed-spans`` text spans (``seeded_hour``),
then the real ``lifelog daemon start`` records a private Xvfb screen where an xterm prints
"ticket N ready for review" every ``--tick`` seconds (0.3; audio off). In one run ((d) and (c)
first, while the owner stores its first frame, which ``frame`` needs):

a. one ``lifelog mcp`` session kept open (the agent's case: the SDK's stdio client), each tool
   called ``--calls`` times: search (a few queries), context over the last hour at the tool's
   default 20k budget and at 100k, now, and frame (the screen now);
b. the same calls through ``RemoteTimeline`` in this process: on one kept-alive connection (the
   socket's own cost), and with ``find_owner`` per call (what the server does for each tool call);
c. ``lifelog search --json`` and ``lifelog context --since 1h --budget 20000`` as a user runs them,
   a new process each time (``--cli-runs``);
d. the MCP session's start-up: spawn ``lifelog mcp`` + initialize + list_tools (``--starts``, and
   the kept session's own); and its CPU seconds, which load disturbs less than wall time: a
   ``lifelog mcp`` that starts and ends at once, the SDK's import alone, the interpreter alone.

CPU of the ``lifelog mcp`` process is also summed over each case's calls (``/proc``, in clock ticks).

The paths of (a) and (b) take turns call by call, so load on the shared machine falls on both.
Figures are p50 / p95 in milliseconds; the result size is what the MCP tool returned.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common
from seeded_hour import seed

from tests.support.xscreen import XScreen

TICKER = 'i=100; while true; do i=$((i+1)); echo "ticket $i ready for review"; sleep $0; done'  # $0: --tick
QUERIES = ["ticket review", "invoice settled", "gamma4711 beta517", "quarterly report account"]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Case:
    """One request made both ways: the MCP tool's arguments and the facade call's, for call ``i``."""

    label: str
    tool: str
    mcp_args: Callable[[int], dict]
    call_args: Callable[[int], dict]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def ms(xs: list[float | None]) -> str:
    """p50 / p95 in ms of the calls that answered, and how many failed (None)."""
    ok = [x for x in xs if x is not None]
    failed = f" ({len(xs) - len(ok)} failed)" if len(ok) < len(xs) else ""
    return (f"{1000 * pct(ok, 0.5):,.1f} / {1000 * pct(ok, 0.95):,.1f}" if ok else "–") + failed


def ms_p50(xs: list[float | None]) -> str:
    ok = [x for x in xs if x is not None]
    return f"{1000 * pct(ok, 0.5):,.0f}" if ok else "–"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def window_case(label: str, budget: int, tokenizer: str) -> Case:
    """Context over the last hour at ``budget``, counted with the tokenizer the tool picks."""
    return Case(
        label,
        "context",
        lambda i: {"since": "1h", "budget": budget},
        lambda i: {"since": utcnow() - timedelta(hours=1), "until": None, "budget": budget, "tokenizer": tokenizer},
    )


def all_cases(settings) -> list[Case]:
    from lifelog.tokenize_media.targets import choose

    tokenizer = choose(settings, budget=20_000).tokenizer
    query = lambda i: {"query": QUERIES[i % len(QUERIES)]}
    return [
        Case(f"search ({len(QUERIES)} queries in turn)", "search", query, query),
        window_case("context, last hour, 20k (the tool's default)", 20_000, tokenizer),
        window_case("context, last hour, 100k", 100_000, tokenizer),
        Case("now (its defaults: 5 min, 2k)", "now", lambda i: {}, lambda i: {}),
        Case(
            "frame (the screen now, 1280 wide)",
            "frame",
            lambda i: {"at": datetime.now(UTC).isoformat()},
            lambda i: {"at": utcnow()},
        ),
    ]


def content_bytes(result) -> int:
    """What an MCP tool result carries: its text, and its image as base64."""
    return sum(len((c.text if c.type == "text" else c.data).encode()) for c in result.content)


def mcp_server_pid() -> int:
    """The ``lifelog mcp`` this process spawned (its child)."""
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            if b"\0mcp" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
    raise RuntimeError("no lifelog mcp child")


async def mcp_call(session, case: Case, i: int) -> tuple[float | None, object]:
    """Seconds of one tool call (None when it answered a tool error: said on stderr), its result."""
    t = time.perf_counter()
    result = await session.call_tool(case.tool, case.mcp_args(i))
    dt = time.perf_counter() - t
    if result.is_error:
        say(f"MCP {case.tool} failed: {result.content[0].text}")
        return None, result
    return dt, result


def remote_call(timeline, case: Case, i: int) -> float | None:
    """Seconds of one call on ``timeline`` (None when lifelog refused it: said on stderr)."""
    from lifelog.errors import LifelogError

    t = time.perf_counter()
    try:
        getattr(timeline, case.tool)(**case.call_args(i))
    except LifelogError as exc:
        say(f"{case.tool} failed: {exc}")
        return None
    return time.perf_counter() - t


def fresh_call(paths, case: Case, i: int) -> float | None:
    """``find_owner`` then the call then close: what ``lifelog mcp`` does for each tool call."""
    from lifelog.api.client import find_owner
    from lifelog.errors import LifelogError

    t = time.perf_counter()
    try:
        timeline = find_owner(paths)
    except LifelogError as exc:
        say(f"find_owner failed: {exc}")
        return None
    try:
        return None if remote_call(timeline, case, i) is None else time.perf_counter() - t
    finally:
        timeline.close()


async def opened(session, started: float) -> dict[str, float]:
    """Initialize ``session`` and list its tools; the seconds each took (from ``started``: the spawn)."""
    await session.initialize()
    t1 = time.perf_counter()
    tools = await session.list_tools()
    t2 = time.perf_counter()
    assert {"search", "context", "now", "frame"} <= {tool.name for tool in tools.tools}, tools
    return {"initialize": t1 - started, "list_tools": t2 - t1, "total": t2 - started}


async def start_ups(params, runs: int) -> list[dict[str, float]]:
    """Spawn + initialize, then list_tools, each in a new session."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import stdio_client

    out = []
    for _ in range(runs):
        t = time.perf_counter()
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            out.append(await opened(session, t))
    return out


async def kept_session(params, paths, cases: list[Case], calls: int) -> dict:
    """One MCP session for every call; the in-process socket calls take turns with it."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import stdio_client

    from lifelog.api.client import find_owner

    r: dict = {c.label: {"mcp": [], "server_cpu": 0.0, "kept": [], "fresh": []} for c in cases}
    start: dict[str, float] = {}
    remote = find_owner(paths)
    t = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        start = await opened(session, t)  # one more start-up
        server = mcp_server_pid()
        for case in cases:  # a first call each, apart: the server imports what the tool needs
            r[case.label]["first"], _ = await mcp_call(session, case, 0)
            remote_call(remote, case, 0)
        for i in range(calls):
            for case in cases:
                cpu = common.cpu_seconds(server)
                dt, result = await mcp_call(session, case, i)
                r[case.label]["server_cpu"] += common.cpu_seconds(server) - cpu
                r[case.label]["mcp"].append(dt)
                if dt is not None:  # what an answer carries
                    r[case.label].update(bytes=content_bytes(result), meta=result.structured_content)
                r[case.label]["kept"].append(remote_call(remote, case, i))
                r[case.label]["fresh"].append(fresh_call(paths, case, i))
    remote.close()
    return {"start": start, "cases": r}


def process(argv: list[str], env: dict, **kw) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU seconds of one process run to its end (stdin empty), and how it ended."""
    cpu, t = common.children_cpu_seconds(), time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, **kw)
    return time.perf_counter() - t, common.children_cpu_seconds() - cpu, proc


def cli(args: list[str], env: dict, **kw) -> tuple[float, subprocess.CompletedProcess]:
    wall, _, proc = process([str(BIN / "lifelog"), *args], env, **kw)
    return wall, proc


def runs_of(argv: list[str], env: dict, runs: int) -> dict[str, list[float | None]]:
    """Wall and CPU seconds of ``runs`` runs of ``argv`` (None for a run that failed: its last
    line of stderr is said)."""
    out: dict[str, list[float | None]] = {"wall": [], "cpu": []}
    for _ in range(runs):
        wall, cpu, proc = process(argv, env)
        if proc.returncode:
            say(f"{' '.join(argv[1:])} failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
        out["wall"].append(wall if proc.returncode == 0 else None)
        out["cpu"].append(cpu if proc.returncode == 0 else None)
    return out


def cli_runs(env: dict, runs: int) -> dict[str, dict[str, list[float | None]]]:
    """``lifelog search --json`` (the queries in turn) and a 20k window, a new process each."""
    out: dict[str, dict[str, list[float | None]]] = {
        "search": {"wall": [], "cpu": []},
        "context": {"wall": [], "cpu": []},
    }
    for i in range(runs):
        for key, argv in (
            ("search", ["search", QUERIES[i % len(QUERIES)], "--json"]),
            ("context", ["context", "--since", "1h", "--budget", "20000"]),
        ):
            one = runs_of([str(BIN / "lifelog"), *argv], env, 1)
            out[key]["wall"] += one["wall"]
            out[key]["cpu"] += one["cpu"]
    return out


def start_cpu(env: dict, runs: int) -> dict[str, dict[str, list[float | None]]]:
    """What a start costs apart from the load: ``lifelog mcp`` that starts and ends at once (stdin
    empty), the SDK's import alone, and the interpreter alone."""
    return {
        "`lifelog mcp` started and closed at once (stdin empty)": runs_of([str(BIN / "lifelog"), "mcp"], env, runs),
        "`python -c 'import mcp.server.lowlevel, mcp.server.stdio'`": runs_of(
            [sys.executable, "-c", "import mcp.server.lowlevel, mcp.server.stdio"], env, runs
        ),
        "`python -c pass`": runs_of([sys.executable, "-c", "pass"], env, runs),
    }


def wait_for_frame(paths, timeout: float = 120) -> float:
    """Seconds until the owner has a frame stored (``frame`` needs one)."""
    from lifelog.api.client import find_owner

    t = time.perf_counter()
    while True:
        remote = find_owner(paths)
        try:
            remote.frame(at=utcnow())
            return time.perf_counter() - t
        except Exception:
            if time.perf_counter() - t > timeout:
                raise
            time.sleep(1)
        finally:
            remote.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-spans", type=int, default=20_000, help="text spans seeded over the last hour")
    ap.add_argument("--calls", type=int, default=15, help="calls of each case through MCP and the socket")
    ap.add_argument("--cli-runs", type=int, default=5, help="runs of each CLI command")
    ap.add_argument("--starts", type=int, default=3, help="MCP sessions started for the start-up time")
    ap.add_argument("--tick", type=float, default=0.3, help="seconds between the xterm's lines")
    quick = {"seed_spans": 300, "calls": 2, "cli_runs": 1, "starts": 1, "tick": 5}  # few frames to drain at stop
    args = common.parse(ap, quick=quick)

    home = Path(tempfile.mkdtemp(prefix="mcp_latency.")) / "home"  # short: the socket lives in it
    os.environ.update(LIFELOG_HOME=str(home), LIFELOG_AUDIO_SOURCE="none")
    import anyio
    from mcp.client.stdio import StdioServerParameters

    from lifelog.config import load_settings
    from lifelog.paths import Paths

    paths = Paths.from_env().ensure()
    t = time.perf_counter()
    seed(paths.db, args.seed_spans)
    say(f"seeded {args.seed_spans} spans in {time.perf_counter() - t:.1f} s; home {home}")
    screen = XScreen()
    env = {**screen.env, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    ticker = subprocess.Popen(
        [
            "xterm",
            "-geometry",
            "100x30+0+0",
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "13",
            "-e",
            "sh",
            "-c",
            TICKER,
            str(args.tick),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    params = StdioServerParameters(command=str(BIN / "lifelog"), args=["mcp"], env=env)
    cases = all_cases(load_settings(paths.config_file))
    r: dict = {}
    try:
        dt, proc = cli(["daemon", "start", "--json"], env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        say(f"daemon started in {dt:.1f} s; (d) MCP start-up")
        with common.timed() as t:
            r["starts"] = anyio.run(start_ups, params, args.starts - 1)  # the kept session is one more
            r["start_cpu"] = start_cpu(env, args.starts)
        say(f"{t['wall']:.1f} s; (c) the CLI")
        with common.timed() as t:
            r["cli"] = cli_runs(env, args.cli_runs)
        say(f"{t['wall']:.1f} s; a frame stored after {wait_for_frame(paths):.1f} s more")
        say("(a, b) one MCP session, the socket in turn")
        with common.timed() as t:
            r["calls"] = anyio.run(kept_session, params, paths, cases, args.calls)
        say(f"{t['wall']:.1f} s")
    finally:
        with common.timed() as t:
            cli(["daemon", "stop"], env, timeout=600)
        say(f"daemon stopped in {t['wall']:.1f} s")
        ticker.terminate()
        screen.stop()
        shutil.rmtree(home.parent, ignore_errors=True)
    report(r, cases, args)


def say(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def report(r: dict, cases: list[Case], args) -> None:
    cli_of = {cases[0].label: r["cli"]["search"], cases[1].label: r["cli"]["context"]}
    none: dict[str, list[float]] = {"wall": [], "cpu": []}
    print(f"\n### (a–c) per call, p50 / p95 ms, {args.calls} calls each (the first MCP call apart)\n")
    header = [
        "call",
        "MCP, one session kept open",
        "MCP first call",
        "MCP server CPU ms per call (mean)",
        "RemoteTimeline, kept-alive connection",
        "RemoteTimeline, find_owner per call",
        f"CLI, new process ({args.cli_runs} runs)",
        "CLI CPU ms p50",
        "MCP result bytes",
    ]
    rows = []
    for case in cases:
        c = r["calls"]["cases"][case.label]
        rows.append(
            [
                case.label,
                ms(c["mcp"]),
                ms_p50([c["first"]]),
                f"{1000 * c['server_cpu'] / len(c['mcp']):,.1f}",
                ms(c["kept"]),
                ms(c["fresh"]),
                ms(cli_of.get(case.label, none)["wall"]),
                ms_p50(cli_of.get(case.label, none)["cpu"]),
                c.get("bytes", "–"),
            ]
        )
    print(common.table(header, rows))
    for case in cases[1:3]:
        meta = r["calls"]["cases"][case.label].get("meta")
        if not meta:
            continue
        print(f"\n{case.label}: {meta['tokens']:,} tokens ({meta['tokenizer']}), {meta['lines']:,} lines", end="")
        print(f", {meta['omitted_lines']:,} older lines left out" if meta.get("omitted_lines") else "")
    s = [*r["starts"], r["calls"]["start"]]
    print(f"\n### (d) MCP session start-up, p50 / p95 ms of {len(s)} sessions\n")
    rows = [
        ["spawn `lifelog mcp` + initialize", ms([x["initialize"] for x in s])],
        ["list_tools", ms([x["list_tools"] for x in s])],
        ["total", ms([x["total"] for x in s])],
    ]
    print(common.table(["step", "p50 / p95 ms"], rows))
    print(f"\nThe same start-up apart from the load, {args.starts} runs each:\n")
    rows = [[name, ms(x["wall"]), ms_p50(x["cpu"])] for name, x in r["start_cpu"].items()]
    print(common.table(["process", "wall p50 / p95 ms", "CPU ms p50"], rows))


if __name__ == "__main__":
    main()
