"""The ``lifelog`` command. Errors are mapped to one line and an exit code here, and only here."""

from __future__ import annotations

import sys

import typer

from lifelog import __version__
from lifelog.cli import common
from lifelog.errors import LifelogError

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
    from lifelog.cli import doctor, importing, read, record

    record.register(app)
    importing.register(app)
    read.register(app)
    doctor.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=True)
    except LifelogError as exc:
        if _state["verbose"]:
            raise
        common.err.print(f"lifelog: error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        common.err.print("lifelog: interrupted", markup=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
