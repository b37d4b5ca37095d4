"""A real MCP client (the SDK's stdio client) talking to ``lifelog mcp`` in a subprocess."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import numpy as np
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from PIL import Image


def with_session(env: dict, work: Callable[[ClientSession], Awaitable[Any]], timeout: float = 180) -> Any:
    """Start ``lifelog mcp`` with ``env``, initialize a session, run ``work`` on it, close it."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "lifelog.cli.app", "mcp"], env=env)

    async def run():
        with anyio.fail_after(timeout):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return anyio.run(run)


def text(result) -> str:
    assert not result.is_error, result.content[0].text
    return "".join(c.text for c in result.content if c.type == "text")


def as_json(result) -> Any:
    return json.loads(text(result))


def image(result) -> np.ndarray:
    """The PNG of a ``frame`` result as RGB pixels."""
    assert not result.is_error, result.content[0].text
    (picture,) = [c for c in result.content if c.type == "image"]
    assert picture.mime_type == "image/png"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(picture.data))).convert("RGB"))


def error(result) -> str:
    """The one line of a tool error."""
    assert result.is_error, result
    (line,) = [c.text for c in result.content]
    assert "\n" not in line and "Traceback" not in line
    return line
