"""``lifelog speakers``: the voices heard, and naming them."""

from __future__ import annotations

import typer

from lifelog.cli.common import JsonOpt, Runtime, err, out, print_json

speakers_app = typer.Typer(
    help="The voices heard (`lifelog speakers`), and naming one (`lifelog speakers name 2 Dana`).",
    invoke_without_command=True,
)


@speakers_app.callback()
def speakers(ctx: typer.Context, json_out: bool = JsonOpt) -> None:
    """The voices heard, most heard first: label, how long, when last, from where.

    Your own voice on the microphone is "me". Example: lifelog speakers
    """
    if ctx.invoked_subcommand is not None:
        return
    timeline = Runtime.load().timeline()
    try:
        voices = timeline.speakers()
    finally:
        timeline.close()
    if json_out:
        print_json(voices)
        return
    if not voices:
        err.print("No voices told apart yet: speech recorded or imported from now on says who spoke.")
        return
    for v in voices:
        number = f"[{v['id']}]"
        last = v["last"][:16].replace("T", " ")
        out.print(
            f"{number:>6} {v['speaker']:<24} {_duration(v['seconds']):>8}  {v['transcripts']:>6,} lines"
            f"  last {last}Z  ({', '.join(v['sources'])})",
            markup=False,
            highlight=False,
        )


@speakers_app.command("name")
def name(
    speaker: str = typer.Argument(
        ..., help="The voice: its number (as `lifelog speakers` shows), Speaker N, or its name."
    ),
    new: str = typer.Argument(..., metavar="NAME", help='The name to give it, e.g. "Dana Whitfield".'),
    json_out: bool = JsonOpt,
) -> None:
    """Name a voice: what it said, and what it says from now on, is shown under the name.

    Example: lifelog speakers name 2 "Dana Whitfield"
    """
    timeline = Runtime.load().timeline()
    try:
        named = timeline.name_speaker(speaker, new)
    finally:
        timeline.close()
    if json_out:
        print_json(named)
        return
    err.print(
        f"{named['was']} is now {named['speaker']}: {named['transcripts']:,} lines heard ({_duration(named['seconds'])}).",
        markup=False,
        highlight=False,
    )


def _duration(seconds: float) -> str:
    minutes, s = divmod(round(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m" if hours else f"{m}m{s:02d}s" if m else f"{s}s"


def register(app: typer.Typer) -> None:
    app.add_typer(speakers_app, name="speakers")
