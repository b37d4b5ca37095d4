"""``lifelog lessons``: what to do next time, kept first in windows (list, add, edit, rm, reflect)."""

from __future__ import annotations

import click
import typer

from lifelog.cli.common import JsonOpt, Runtime, SinceOpt, UntilOpt, err, out, print_json
from lifelog.errors import UsageError
from lifelog.timespec import parse_range

lessons_app = typer.Typer(
    help="Lessons kept first in windows (`context --lessons`, `ask`): list, add, edit, rm, reflect.",
    invoke_without_command=True,
)


@lessons_app.callback()
def lessons(ctx: typer.Context, json_out: bool = JsonOpt) -> None:
    """The lessons kept, in order: what to do (or not) next time.

    Example: lifelog lessons
    """
    if ctx.invoked_subcommand is not None:
        return
    found = _call("lessons")
    if json_out:
        print_json(found)
        return
    if not found:
        err.print('No lessons yet: `lifelog lessons add "..."`, or `lifelog lessons reflect --since 1d`.')
        return
    for x in found:
        by = f"  ({x['model']})" if x["model"] else ""
        out.print(f"[{x['id']}] {x['text']}{by}", markup=False, highlight=False)


@lessons_app.command("add")
def add(text: str = typer.Argument(..., help="What to do (or not) next time."), json_out: bool = JsonOpt) -> None:
    """Keep a lesson. Example: lifelog lessons add "Run the migration dry-run before deploying"."""
    _said(_call("add_lesson", text), "Kept", json_out)


@lessons_app.command("edit")
def edit(
    lesson: int = typer.Argument(..., help="Its number, as `lifelog lessons` shows it."),
    text: str | None = typer.Argument(None, help="The new text (none: edit it in $EDITOR)."),
    json_out: bool = JsonOpt,
) -> None:
    """Change a lesson's text. Example: lifelog lessons edit 12 "Deploy after 10:00 only"."""
    if text is None:
        current = next((x for x in _call("lessons") if x["id"] == lesson), None)
        if current is None:
            raise UsageError(f"No lesson {lesson} (`lifelog lessons` lists them).")
        text = click.edit(current["text"])
        if text is None:
            err.print("Unchanged.")
            return
    _said(_call("edit_lesson", lesson, text), "Changed", json_out)


@lessons_app.command("rm")
def rm(lesson: int = typer.Argument(..., help="Its number."), json_out: bool = JsonOpt) -> None:
    """Remove a lesson. Example: lifelog lessons rm 12"""
    _said(_call("remove_lesson", lesson), "Removed", json_out)


@lessons_app.command("reflect")
def reflect(
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    model: str | None = typer.Option(None, "--model", "-m", help="The model to ask. Default: `model` in config."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="An OpenAI-compatible endpoint. Default: `ask_base_url` in config."
    ),
    json_out: bool = JsonOpt,
) -> None:
    """A model reviews the range (its digests) and writes lessons: what went wrong, what fixed
    it, what to do next time. Sends the range's digests to the endpoint, as `ask` does.

    Example: lifelog lessons reflect --since 1d
    """
    from lifelog.api.reflect import reflect as run
    from lifelog.cli.ask import base_url_of, key_of, model_of
    from lifelog.replay.llm import Endpoint

    start, end = parse_range(since or "1d", until)
    rt = Runtime.load(ask_base_url=base_url, model=model)
    endpoint = Endpoint(
        base_url_of(rt.settings), model_of(rt.settings), key_of(rt.settings, None), rt.settings.ask_timeout_s
    )
    timeline = rt.timeline()
    try:
        done = run(timeline, endpoint, since=start, until=end)
    finally:
        timeline.close()
    if json_out:
        print_json(done)
        return
    if not done["hours"]:
        err.print("No digested hours in this range: nothing to reflect on.")
        return
    err.print(f"Read {done['hours']} hours; kept {len(done['lessons'])} lessons.", highlight=False)
    for x in done["lessons"]:
        out.print(f"[{x['id']}] {x['text']}", markup=False, highlight=False)


def _call(name: str, *args):
    timeline = Runtime.load().timeline()
    try:
        return getattr(timeline, name)(*args)
    finally:
        timeline.close()


def _said(lesson: dict, verb: str, json_out: bool) -> None:
    if json_out:
        print_json(lesson)
    else:
        err.print(f"{verb} lesson [{lesson['id']}]: {lesson['text']}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(lessons_app, name="lessons")
