"""Regenerate the command reference (docs/cli.md) from the CLI's own --help, so it cannot drift.

.venv/bin/python scripts/cli_reference.py          # rewrite docs/cli.md
.venv/bin/python scripts/cli_reference.py --check  # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def help_text(args: list[str]) -> str:
    from typer.testing import CliRunner

    from lifelog.cli.app import app

    env = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    result = CliRunner().invoke(app, [*args, "--help"], env=env, terminal_width=100)
    return "\n".join(line.rstrip() for line in result.output.strip().splitlines())


def reference() -> str:
    import typer.main

    from lifelog.cli.app import app

    commands = typer.main.get_command(app).commands
    parts = ["```", "$ lifelog --help", help_text([]), "```"]
    for name in sorted(commands):
        parts += ["", f"### lifelog {name}", "", "```", f"$ lifelog {name} --help", help_text([name]), "```"]
        for sub in sorted(getattr(commands[name], "commands", {})):  # a group: each of its commands
            parts += [
                "",
                f"#### lifelog {name} {sub}",
                "",
                "```",
                f"$ lifelog {name} {sub} --help",
                help_text([name, sub]),
                "```",
            ]
    return "\n".join(parts)


def updated(readme: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{START}\n{reference()}\n{END}", readme)


def main() -> int:
    os.environ.setdefault("COLUMNS", "100")
    current = REFERENCE.read_text()
    new = updated(current)
    if "--check" in sys.argv:
        return 0 if new == current else 1
    REFERENCE.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
