"""``lifelog mcp``: the timeline's tools for agents, over MCP on stdin/stdout."""

from __future__ import annotations

import typer

from lifelog.cli.common import Runtime


def mcp() -> None:
    """Serve the timeline to an agent as MCP tools over stdin/stdout: search, context,
    activity, now, digests, lessons, frame (read-only) and add_lesson. Each call goes
    through the running daemon, or reads the file when none runs. Configure it in the
    client (see the README), not in a terminal.

    Example: claude mcp add lifelog -- lifelog mcp
    """
    from lifelog.api.mcp_server import serve

    rt = Runtime.load()
    serve(rt.paths, rt.settings)


def register(app: typer.Typer) -> None:
    app.command()(mcp)
