"""The ``lifelog`` command. Errors are mapped to one line and an exit code here, and only here."""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import TyperException

from lifelog import __version__
from lifelog.cli import common
from lifelog.errors import LifelogError
from lifelog.quiet import quiet_dependencies

app = typer.Typer(
    name="lifelog",
    help="Record what happens at your computer and hand it to models as token-budgeted context.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"verbose": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lifelog {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging and full tracebacks."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    _state["verbose"] = verbose
    common.setup_logging(verbose)


def _register() -> None:
    from lifelog.cli import (
        ask,
        config,
        daemon,
        digest,
        doctor,
        encrypt,
        export,
        forget,
        importing,
        index,
        lessons,
        mcp,
        read,
        record,
        replay,
        speakers,
        timeline,
    )

    record.register(app)
    daemon.register(app)
    importing.register(app)
    export.register(app)
    read.register(app)
    timeline.register(app)
    digest.register(app)
    lessons.register(app)
    index.register(app)
    ask.register(app)
    doctor.register(app)
    config.register(app)
    encrypt.register(app)
    forget.register(app)
    replay.register(app)
    speakers.register(app)
    mcp.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error becomes one line on stderr and an exit code (2: bad usage)."""
    os.umask(0o077)  # everything lifelog creates (DuckDB's WAL, lock files, children's files) is private
    quiet_dependencies()  # before any dependency is imported: no telemetry, no downloads
    try:
        rc = app(args=argv, standalone_mode=False, prog_name="lifelog")
    except LifelogError as exc:
        if _state["verbose"]:
            raise
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", 130)
    except TyperException as exc:  # the parser's own errors: bad option values, unknown options
        code = getattr(exc, "exit_code", 2)
        if not exc.format_message().strip():  # `lifelog` with no arguments: the help is already shown
            sys.exit(code)
        _fail(exc.format_message(), code)
    sys.exit(rc if isinstance(rc, int) else 0)


def _fail(message: str, code: int) -> None:
    common.err.print(f"lifelog: error: {' '.join(message.split())}", markup=False, highlight=False)
    sys.exit(code)


if __name__ == "__main__":
    main()
