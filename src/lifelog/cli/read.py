"""Read commands: ``search``, ``context``, ``status``. Each has ``--json``."""

from __future__ import annotations

from pathlib import Path

import typer

from lifelog.cli.common import (
    BudgetOpt,
    JsonOpt,
    ModelOpt,
    Runtime,
    SinceOpt,
    TokenizerOpt,
    UntilOpt,
    err,
    out,
    print_json,
)
from lifelog.errors import UsageError
from lifelog.paths import atomic_private_file
from lifelog.replay.search import MAX_HITS
from lifelog.timespec import parse_range


def search(
    query: str = typer.Argument(..., help="Words to find in what was seen or heard."),
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    app_name: str | None = typer.Option(None, "--app", help="Only text seen in this app (e.g. XTerm, firefox)."),
    limit: int = typer.Option(20, "--limit", min=1, max=MAX_HITS, help="At most this many results."),
    speaker: str | None = typer.Option(
        None, "--speaker", help="Only what this voice said: its name (or part of it), or Speaker N."
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Find the moments words were seen on screen or heard, best matches first.

    Example: lifelog search "invoice 4821" --since 2h; lifelog search budget --speaker Dana
    """
    start, end = parse_range(since, until)
    timeline = Runtime.load().timeline()
    try:
        hits = timeline.search(query, since=start, until=end, app=app_name, limit=limit, speaker=speaker)
    finally:
        timeline.close()
    if json_out:
        print_json(hits)
        return
    if not hits:
        err.print(f"No matches for {query!r}.", highlight=False)
        raise typer.Exit(1)
    from lifelog.replay.search import hit_line

    for h in hits:
        out.print(hit_line(h), markup=False)


def context(
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    budget: int | None = BudgetOpt,
    fmt: str = typer.Option(
        "markdown", "--format", "-f", help="markdown, json, xml, or messages (an OpenAI chat request body)."
    ),
    images: int | None = typer.Option(
        None,
        "--images",
        metavar="N",
        help="With --format messages: up to N screenshots spread over the range, counted at the model's image rate.",
    ),
    query: str | None = typer.Option(
        None,
        "--query",
        "-q",
        help="Full detail where this is answered (BM25 and embeddings), the rest of the range as an outline.",
    ),
    model: str | None = ModelOpt,
    tokenizer: str | None = TokenizerOpt,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the window to this file instead of stdout."),
    lessons: bool = typer.Option(
        False,
        "--lessons",
        help="The lessons kept (`lifelog lessons`) first, the same bytes every time (cache-friendly).",
    ),
) -> None:
    """Build a context window of what was seen and heard, chronological, under a token budget.

    Example: lifelog context --since 7d --model gpt-4o --budget 200k > window.md

    Example: lifelog context --since 30d --budget 32k --query "why did the deploy fail"

    Example: lifelog context --since 2h --model gpt-4o --format messages --images 8 > request.json

    Example: lifelog context --lessons --query "how do we deploy" --budget 16k
    """
    from lifelog.replay.messages import check_request
    from lifelog.tokenize_media.targets import choose

    check_request(fmt, images)
    start, end = parse_range(since, until)
    rt = Runtime.load()
    choice = choose(rt.settings, model=model, tokenizer=tokenizer, budget=budget)
    if choice.warning():
        err.print(choice.warning(), highlight=False)
    timeline = rt.timeline()
    try:
        window = timeline.context(
            since=start,
            until=end,
            budget=choice.budget,
            fmt=fmt,
            tokenizer=choice.tokenizer,
            model=model or rt.settings.model or None,
            images=images,
            query=query,
            lessons=lessons,
        )
    finally:
        timeline.close()
    if output:
        _write_atomic(output, window.text)
    else:
        typer.echo(window.text, nl=False)
    if window.notice:
        err.print(window.notice, highlight=False)
    err.print(window.note(), highlight=False)


def status(json_out: bool = JsonOpt) -> None:
    """Frames kept and skipped, text spans, transcripts, pending backlog, storage sizes.

    Example: lifelog status --json
    """
    from lifelog.api.status import render_lines

    timeline = Runtime.load().timeline()
    try:
        data = timeline.status()
    finally:
        timeline.close()
    if json_out:
        print_json(data)
    else:
        for line in render_lines(data):
            out.print(line, markup=False)


def _write_atomic(path: Path, text: str) -> None:
    try:
        with atomic_private_file(path) as fh:  # 0600: it holds what was on screen
            fh.write(text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror}.") from None


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.command()(context)
    app.command()(status)
