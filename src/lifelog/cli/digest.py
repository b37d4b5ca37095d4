"""``lifelog digest`` (catch up on digests now) and ``lifelog digests`` (read them)."""

from __future__ import annotations

import typer

from lifelog.cli.common import JsonOpt, Runtime, SinceOpt, UntilOpt, err, out, print_json, progress_bar
from lifelog.timespec import parse_range

STEP_S = 5.0  # seconds of digesting per call, so the bar moves and no call runs long


def digest(since: str | None = SinceOpt, json_out: bool = JsonOpt) -> None:
    """Make the digests that are due now: a short account of each hour, day and week.

    A running recorder makes them in the background, a few minutes after each hour ends;
    this catches up at once (after an import, an upgrade, or with no recorder running).
    Example: lifelog digest --since 7d
    """
    start, _ = parse_range(since, None)
    timeline = Runtime.load().timeline()
    total = {"hours": 0, "days": 0, "weeks": 0, "by_model": 0, "left": 0, "seconds": 0.0}
    try:
        with progress_bar("Digesting hours") as bar:
            task = bar.add_task("digest", total=None)
            while True:
                report = timeline.digest(since=start, seconds=STEP_S)
                for key in ("hours", "days", "weeks", "by_model", "seconds"):
                    total[key] += report[key]
                total["left"] = report["left"]
                bar.update(task, completed=total["hours"], total=total["hours"] + report["left"])
                if not report["stopped"] or not report["hours"]:  # done, or nothing moves
                    break
    finally:
        timeline.close()
    total["seconds"] = round(total["seconds"], 2)
    if json_out:
        print_json(total)
        return
    made = ", ".join(f"{total[k]:,} {k[:-1] if total[k] == 1 else k}" for k in ("hours", "days", "weeks"))
    if not any(total[k] for k in ("hours", "days", "weeks")):
        err.print("Every digest is up to date (hours are digested once they are summarised, a few minutes after).")
    else:
        by = f" ({total['by_model']:,} written by the model)" if total["by_model"] else ""
        err.print(f"Digested {made}{by} in {total['seconds']:.1f} s.", highlight=False)
    if total["left"]:
        err.print(f"{total['left']:,} hours still due: they changed while being digested; run it again.")


def digests(
    since: str | None = typer.Option(None, "--since", help="Start: 2h, 3d (ago), ISO time, today. Default: 7d."),
    until: str | None = UntilOpt,
    level: str | None = typer.Option(None, "--level", help="hour, day or week. Default: day and week."),
    json_out: bool = JsonOpt,
) -> None:
    """What happened, in short: the digests of the hours, days and weeks in the range.

    Each says where the time went, who spoke, and the most telling lines with their times.
    Example: lifelog digests --since 7d --level day
    """
    start, end = parse_range(since or "7d", until)
    timeline = Runtime.load().timeline()
    try:
        found = timeline.digests(since=start, until=end, level=level)
    finally:
        timeline.close()
    if level is None:
        found = [d for d in found if d["level"] != "hour"] or found
    if json_out:
        print_json(found)
        return
    if not found:
        err.print("No digests in this range yet (`lifelog digest` makes the ones due).")
        raise typer.Exit(1)
    for d in found:
        when = d["start"][:10] if d["level"] != "hour" else d["start"][:16].replace("T", " ")
        title = {"week": f"week of {when}", "day": when, "hour": f"{when}Z"}[d["level"]]
        out.print(f"## {title} · {d['level']} ({d['tokens']} tokens)", markup=False, highlight=False)
        out.print(d["text"] + "\n", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(digest)
    app.command()(digests)
