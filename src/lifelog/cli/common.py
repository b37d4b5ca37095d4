"""What every command shares: the runtime (paths, settings, store), options defined once,
stderr console and progress bars."""

from __future__ import annotations

import json
import logging
import signal
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lifelog.config import Settings, load_settings, parse_budget
from lifelog.errors import UsageError
from lifelog.paths import Paths

err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)

SinceOpt = typer.Option(None, "--since", help="Start: 90s, 10m, 2h, 3d (ago), ISO time, today, yesterday.")
UntilOpt = typer.Option(None, "--until", help="End (same forms as --since). Default: now.")
JsonOpt = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")


def _budget(value: str) -> int:
    try:
        return parse_budget(value)
    except UsageError as exc:
        raise typer.BadParameter(str(exc)) from None


BudgetOpt = typer.Option(
    None,
    "--budget",
    parser=_budget,
    metavar="<tokens>",
    help="Token budget for the window: 8000, 200k, 1M. Default: the model's context "
    "less room for the answer, else 8000.",
)
ModelOpt = typer.Option(
    None,
    "--model",
    "-m",
    help="The model the window is for (gpt-4o, claude-sonnet-4-5, "
    "gemini-2.5-pro, llama3.1, qwen3, mistral-large, deepseek-chat, ...): picks the tokenizer "
    "and the default budget.",
)
TokenizerOpt = typer.Option(
    None,
    "--tokenizer",
    help="Count with this tokenizer instead of the model's: o200k, "
    "cl100k, llama3, qwen3, or an upper bound (claude-approx, gemini-approx, ...).",
)


@dataclass
class Runtime:
    paths: Paths
    settings: Settings

    @classmethod
    def load(cls, **flags) -> Runtime:
        paths = Paths.from_env()
        return cls(paths, load_settings(paths.config_file, **flags))

    def store(self):
        from lifelog.store import Store  # DuckDB is a 50 ms import: only commands that open the file pay it

        return Store(self.paths.db, busy_timeout=self.settings.busy_timeout_s)

    def timeline(self):
        """The facade: the running owner over its socket, or this process's own store."""
        from lifelog.api import open_timeline

        return open_timeline(self.paths, self.settings)


def print_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def progress_bar(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="lifelog: %(levelname)s: %(name)s: %(message)s",
    )


def install_stop_handlers(signals) -> None:
    """SIGINT and SIGTERM stop a recording: the first after what was captured is processed,
    the second at once (``daemon.recorder.StopSignals``), for ``lifelog record`` and the daemon."""
    from lifelog.daemon.recorder import StopNow

    def handle(signum, _frame):
        if signals.stop:
            if signals.abort:
                return  # already stopping at once
            signals.abort = True
            err.print("lifelog: stopping now; unprocessed frames stay in the spool for `lifelog process`.")
            raise StopNow()  # interrupts OCR or a wait for the database where it is
        signals.stop = True
        err.print("lifelog: stopping capture, processing what was captured (Ctrl-C again to skip)...")

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
