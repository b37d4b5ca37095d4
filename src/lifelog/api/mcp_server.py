"""``lifelog mcp``: the timeline as tools for agents, over the Model Context Protocol (stdio).

Each tool is one call of the facade (``calls.py``): its name, description and input schema come
from the call's declaration; :data:`TOOLS` only says which calls are tools, which of their
parameters an agent sees, and the few defaults that differ for an agent (a 20k window: the
model's context is the caller's). Every tool is read-only but ``add_lesson``, which only adds
a lesson (what an agent learned, kept first in later windows: ``lifelog lessons``).

Each tool call opens the timeline the way every command does (``open_timeline``): through the
running owner's socket, or, when none runs, from the file for that one call (so a daemon
started later is not locked out and is used from the next call on). Times take the CLI's forms
(``2h``, ``yesterday``, ``09:00``, ISO-8601). Bad arguments and lifelog's own refusals come back
as tool errors (``isError``, one line the model can act on); an unknown tool is a protocol error.
The server never writes to stdout but the protocol (the SDK points fd 1 at stderr while serving).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from lifelog import __version__
from lifelog.api import open_timeline
from lifelog.api.calls import BOOL, CALLS, INT, NUMBER, OBJECT, TEXT, TIME, Call, Kind, Param
from lifelog.api.timeline import Window
from lifelog.config import Settings
from lifelog.errors import LifelogError, UsageError
from lifelog.models import Picture
from lifelog.paths import Paths
from lifelog.timespec import local_offset, parse_range, parse_time

log = logging.getLogger(__name__)

CONTEXT_BUDGET = 20_000  # an agent's window: a slice of the caller's context, not a whole one
TIME_FORMS = (
    "2h or 3d (ago), today, yesterday, 09:00 (today, local), or ISO-8601 (2026-11-20T14:00, local unless it has a zone)"
)
_SCHEMA_TYPES = {TEXT: "string", INT: "integer", NUMBER: "number", BOOL: "boolean", TIME: "string", OBJECT: "object"}
_NAMES = {"fmt": "format"}  # a parameter's name for agents where Python's differs


@dataclass(frozen=True)
class Tool:
    """A facade call as an MCP tool: the parameters agents see (in this order), defaults that
    differ for agents, parameters an agent must give, and a word on when to use it."""

    call: str
    params: tuple[str, ...]
    guide: str
    defaults: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    implied: dict[str, Callable[[], Any]] = field(default_factory=dict)  # set as the CLI sets them, not asked
    writes: bool = False  # it adds to the timeline (never changes or removes what is there)

    @property
    def declared(self) -> Call:
        return CALLS[self.call]

    def param(self, name: str) -> Param:
        return next(p for p in self.declared.params if p.name == name)


TOOLS: dict[str, Tool] = {
    t.call: t
    for t in (
        Tool(
            "search",
            ("query", "since", "until", "app", "limit"),
            "Use it to find when something was on screen or said (a name, an error, a number); then ask `context` "
            "for the minutes around a hit. Each hit: when, where (app, window), the matching text.",
            required=("query",),
        ),
        Tool(
            "context",
            ("since", "until", "query", "budget", "model", "fmt"),
            "The same window as `lifelog context`: what was seen and heard in the range, in time order, never over "
            "the budget (counted exactly with the model's tokenizer). With `query`, full detail where the question "
            "is answered and the rest outlined. Start with a day or less and a few thousand tokens.",
            defaults={"budget": CONTEXT_BUDGET},
        ),
        Tool(
            "activity",
            ("since", "until"),
            "Where the time went: active minutes per app and per hour, gaps (paused, recorder down, excluded), frames "
            "kept, tokens, and how much of the active time has text from the screen and from speech. Hours and "
            "days are this machine's local ones, as `lifelog timeline` shows them.",
            implied={"utc_offset": local_offset},
        ),
        Tool(
            "now",
            ("minutes", "budget"),
            "A small glance at the present: the lines on the screens last stored, by window, and a window of the "
            "last minutes. Cheap; call it first to see what the user is doing.",
        ),
        Tool(
            "digests",
            ("since", "until", "level"),
            "What happened, in short, over days to months: per hour, day or week, where the time went, who spoke "
            "and the most telling lines with their times (made while the user is idle). Cheap; use it to find "
            "the days worth a `context` call. `level`: hour, day or week (none: all three).",
        ),
        Tool(
            "lessons",
            (),
            "Lessons kept from earlier work (by the user, `lifelog lessons reflect`, or agents): read them before "
            "a task like one that went wrong before. Cheap.",
        ),
        Tool(
            "add_lesson",
            ("text", "model"),
            "Keep a lesson for next time: one or two concrete sentences (the command, setting or number that "
            "mattered), when something failed and what fixed it. It is shown first in later windows and listed by "
            "`lessons`; it adds, never changes or removes.",
            defaults={"model": "mcp"},
            writes=True,
        ),
        Tool(
            "frame",
            ("at", "monitor", "width"),
            "The screen as an image at a moment (the last one stored at or before it), for what text cannot say: "
            "a layout, a chart, a picture. Costs image tokens; prefer `context` for reading.",
            required=("at",),
        ),
    )
    if t.call in CALLS  # a call this lifelog does not declare yet is no tool
}


def _name(p: Param) -> str:
    return _NAMES.get(p.name, p.name)


def input_schema(tool: Tool) -> dict:
    """The tool's arguments as JSON Schema, from the call's declaration."""
    props: dict[str, dict] = {}
    for name in tool.params:
        p = tool.param(name)
        doc = p.doc.replace(" (UTC)", "")
        prop: dict[str, Any] = {"type": _SCHEMA_TYPES[p.kind], "description": doc}
        if p.kind is TIME:
            prop["description"] = f"{doc} Forms: {TIME_FORMS}."
        default = tool.defaults.get(name, p.default)
        if not _required(tool, p) and default not in (None, ""):
            prop["default"] = default
        props[_name(p)] = prop
    required = [_name(tool.param(n)) for n in tool.params if _required(tool, tool.param(n))]
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=name,
            description=f"{t.declared.doc} {t.guide}",
            input_schema=input_schema(t),
            annotations=types.ToolAnnotations(
                read_only_hint=not t.writes, destructive_hint=False if t.writes else None, open_world_hint=False
            ),
        )
        for name, t in TOOLS.items()
    ]


def arguments(tool: Tool, given: dict[str, Any] | None) -> dict:
    """The call's keyword arguments from an agent's: names and JSON types checked, times parsed
    in the CLI's forms, the tool's defaults filled in (UsageError naming what is wrong)."""
    given = dict(given or {})
    by_name = {_name(tool.param(n)): tool.param(n) for n in tool.params}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise UsageError(f"Unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; {_valid(by_name)}.")
    args: dict[str, Any] = {}
    for key, p in by_name.items():
        value = given.get(key)
        if value is None or (p.kind is TIME and value == ""):
            if _required(tool, p):
                raise UsageError(f"{key} is required.")
            args[p.name] = tool.defaults.get(p.name, p.default)
            continue
        args[p.name] = _value(key, p.kind, value)
    since, until = args.get("since"), args.get("until")
    if "since" in args or "until" in args:
        args["since"], args["until"] = parse_range(since, until)
    if "at" in args:
        args["at"] = parse_time(args["at"])
    return args | {name: make() for name, make in tool.implied.items()}


def _required(tool: Tool, p: Param) -> bool:
    return p.name in tool.required or (p.required and p.name not in tool.defaults)


def _valid(by_name: dict[str, Param]) -> str:
    return f"valid: {', '.join(by_name)}" if by_name else "it takes none"


def _value(key: str, kind: Kind, value: Any) -> Any:
    if isinstance(value, bool) and kind is not BOOL:  # JSON true is no number
        raise UsageError(f"{key} must be {_SCHEMA_TYPES[kind]}, not a boolean.")
    if kind is INT and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, kind.json):
        raise UsageError(f"{key} must be {_SCHEMA_TYPES[kind]}, not {type(value).__name__} {str(value)[:40]!r}.")
    if isinstance(value, str) and "\x00" in value:
        raise UsageError(f"{key} must not hold a NUL character.")
    return value


class Tools:
    """Answers tool calls from the timeline (``paths``, ``settings``), one timeline per call."""

    def __init__(self, paths: Paths, settings: Settings, opener: Callable = open_timeline) -> None:
        self.paths = paths
        self.settings = settings
        self.opener = opener

    def call(self, name: str, given: dict[str, Any] | None) -> types.CallToolResult:
        """The tool's result, or a tool error with one line."""
        tool = TOOLS.get(name)
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool {name!r}; the tools are: {', '.join(TOOLS)}.")
        try:
            args = arguments(tool, given)
            if tool.call == "context":
                args.update(self._model(args))
            timeline = self.opener(self.paths, self.settings)
            try:
                result = getattr(timeline, tool.call)(**args)
            finally:
                timeline.close()
        except LifelogError as exc:
            return _error(str(exc))
        return _result(result)

    def _model(self, args: dict) -> dict:
        """The tokenizer for the window, as ``lifelog context`` chooses it (the model's, else
        the configured one)."""
        from lifelog.tokenize_media.targets import choose

        choice = choose(self.settings, model=args["model"], budget=args["budget"])
        return {"tokenizer": choice.tokenizer, "model": args["model"] or self.settings.model or None}


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _result(result: Any) -> types.CallToolResult:
    if isinstance(result, Window):
        meta = result.meta()
        return types.CallToolResult(content=[types.TextContent(text=result.text)], structured_content=meta)
    if isinstance(result, Picture):
        return types.CallToolResult(
            content=[
                types.ImageContent(data=base64.b64encode(result.png).decode("ascii"), mime_type="image/png"),
                types.TextContent(text=json.dumps(result.meta, ensure_ascii=False)),
            ],
            structured_content=result.meta,
        )
    text = json.dumps(result, ensure_ascii=False, indent=1, default=_plain)
    structured = result if isinstance(result, dict) else {"results": result}
    return types.CallToolResult(
        content=[types.TextContent(text=text)], structured_content=json.loads(json.dumps(structured, default=_plain))
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def build_server(tools: Tools) -> Server:
    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        # the timeline blocks (a socket, DuckDB): in a worker thread, so pings are answered meanwhile
        return await anyio.to_thread.run_sync(tools.call, params.name, params.arguments)

    server: Server = Server(
        "lifelog",
        version=__version__,
        instructions=(
            "lifelog records this computer's screen and audio as text. Tools read that timeline: `now` for the "
            "present, `search` to find moments, `context` for a token-budgeted window of a range, `activity` for "
            "where the time went, `digests` for what happened over days, `lessons` for what was learned, `frame` "
            "for a screen as an image. `add_lesson` keeps a lesson; nothing else changes the timeline."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    server.middleware = []  # no tracing spans: nothing about the user's questions leaves through a hook
    return server


def serve(paths: Paths, settings: Settings) -> None:
    """Serve the tools over stdin/stdout until the client closes them."""
    server = build_server(Tools(paths, settings))

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)
