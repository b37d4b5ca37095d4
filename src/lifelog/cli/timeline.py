"""``lifelog timeline``: where the time went, as a table (or ``--json``, the facade's
``activity`` answer as is)."""

from __future__ import annotations

from datetime import datetime, timedelta

import typer
from rich.table import Table

from lifelog.cli.common import JsonOpt, Runtime, UntilOpt, err, out, print_json
from lifelog.timespec import local_offset, parse_range

APP_COLUMNS = 5  # apps with a column of their own; the rest share "other"
UNREAD_WARN = 0.2  # warn when this share of the minutes with screen changes had no text read
REASONS = {  # a gap's stored reason as a person reads it
    "ocr_behind": "shed: OCR behind",
    "low_disk": "low disk",
    "excluded": "excluded window",
    "excluded sound": "sound not kept: excluded window",
    "capture_failed": "screen capture stopped",
}
LABELS = {"hour": "%a %H:%M", "day": "%a %d %b", "week": "from %d %b", "month": "%b %Y"}


def timeline(
    since: str = typer.Option("today", "--since", help="Start: today (default), yesterday, 2h, 7d, 30d, ISO time."),
    until: str | None = UntilOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Where the time went: active minutes per app and hour, text read from screen and speech, tokens, gaps.

    Active: the screen changed, sound was kept or speech heard. Longer ranges come by day, week or month.

    Screen text: the share of active minutes with text read from the screen (a recorder that stops reading shows).

    Example: lifelog timeline --since today

    Example: lifelog timeline --since 30d --json
    """
    start, end = parse_range(since, until)
    offset = local_offset()  # where hours and days are cut
    tl = Runtime.load().timeline()
    try:
        data = tl.activity(since=start, until=end, utc_offset=offset)
    finally:
        tl.close()
    if json_out:
        print_json(data)
        return
    totals = data["totals"]
    if not totals["active_minutes"] and not data["gaps"] and not data["ongoing_gap"]:
        err.print(
            f"Nothing was recorded {_span(data)}. Record with `lifelog daemon start` or `lifelog record`.",
            highlight=False,
        )
        return
    out.print(f"Where the time went {_span(data)}", markup=False)
    if totals["active_minutes"]:
        out.print(_activity_table(data))
        for line in _coverage_lines(totals):
            out.print(line, markup=False)
    if data["gaps"] or data["ongoing_gap"]:
        out.print(_gap_table(data["gaps"], data["ongoing_gap"]))


def _local(iso: str, offset: int) -> datetime:
    return datetime.fromisoformat(iso.removesuffix("Z")) + timedelta(minutes=offset)


def _span(data: dict) -> str:
    offset = data["utc_offset_minutes"]
    lo, hi = _local(data["since"], offset), _local(data["until"], offset)
    end = f"{hi:%H:%M}" if hi.date() == lo.date() else f"{hi:%Y-%m-%d %H:%M}"
    zone = f"UTC{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}" if offset else "UTC"
    return f"from {lo:%Y-%m-%d %H:%M} to {end} ({zone})"


def _activity_table(data: dict) -> Table:
    apps = [a["app"] for a in data["apps"][:APP_COLUMNS]]
    table = Table(show_footer=True, box=None, header_style="bold", pad_edge=False)
    totals = data["totals"]
    table.add_column(data["bucket"].capitalize(), footer="Total", no_wrap=True)
    table.add_column("Active min", justify="right", footer=str(totals["active_minutes"]))
    for app in apps:
        minutes = next(a["minutes"] for a in data["apps"] if a["app"] == app)
        table.add_column(_short(app or "(unknown)"), justify="right", footer=str(minutes))
    other = totals["active_minutes"] - sum(a["minutes"] for a in data["apps"][:APP_COLUMNS])
    if other:
        table.add_column("other", justify="right", footer=str(other))
    for title, key in (("Screen text", "screen"), ("Speech text", "speech")):
        table.add_column(title, justify="right", footer=_share(totals["text_coverage"][key]))
    table.add_column("Frames", justify="right", footer=f"{totals['frames']:,}")
    table.add_column("Tokens seen/heard", justify="right", footer=_tokens(totals))
    for label, b in zip(_labels(data), data["buckets"], strict=True):
        cells = [label, str(b["active_minutes"])]
        cells += [str(b["apps"].get(app, 0) or "") for app in apps]
        if other:
            rest = b["active_minutes"] - sum(b["apps"].get(app, 0) for app in apps)
            cells.append(str(rest or ""))
        cells += [_share(b["text_coverage"]["screen"]), _share(b["text_coverage"]["speech"])]
        cells += [f"{b['frames']:,}", _tokens(b)]
        table.add_row(*cells)
    return table


def _labels(data: dict) -> list[str]:
    """Each bucket's start in local time; hours of a single day without the day's name."""
    starts = [_local(b["start"], data["utc_offset_minutes"]) for b in data["buckets"]]
    fmt = LABELS[data["bucket"]]
    if data["bucket"] == "hour" and len({s.date() for s in starts}) == 1:
        fmt = "%H:%M"
    return [f"{s:{fmt}}" for s in starts]


def _coverage_lines(totals: dict) -> list[str]:
    """Text coverage in words, and a warning when the screen changed without text being read."""
    lines = [
        f"Active {_duration(totals['active_minutes'])}: text from the screen in "
        f"{_share(totals['text_coverage']['screen'])} of it, from speech in {_share(totals['text_coverage']['speech'])}"
        f"; {totals['frames']:,} frames kept, {_tokens(totals)} tokens seen/heard."
    ]
    screen, unread = totals["screen_minutes"], totals["unread_minutes"]
    if screen and unread / screen >= UNREAD_WARN:
        n = totals["ocr_failures"]
        failed = f" ({n:,} frame{'' if n == 1 else 's'} failed OCR)" if n else ""
        lines.append(
            f"Warning: {unread} of {screen} minutes with screen changes had no text read from the screen{failed}. "
            "If those screens showed text, check `lifelog doctor` and the daemon's log."
        )
    return lines


def _gap_table(gaps: list[dict], ongoing: dict | None) -> Table:
    table = Table(title="Gaps", title_justify="left", box=None, header_style="bold", pad_edge=False)
    table.add_column("Reason")
    table.add_column("Gaps", justify="right")
    table.add_column("Time", justify="right")
    unended = any(g["open"] for g in gaps)
    if unended:
        table.add_column("Without end", justify="right")
    for g in gaps:
        reason = REASONS.get(g["reason"], g["reason"])
        reason += f" ({g['frames_shed']:,} changes not read)" if g["frames_shed"] else ""
        time = _duration(g["seconds"] / 60) if g["seconds"] or not g["open"] else "–"
        cells = [reason, str(g["count"]), time]
        table.add_row(*cells, *([str(g["open"] or "")] if unended else []))
    if ongoing:
        reason = REASONS.get(ongoing["reason"], ongoing["reason"]) + " (going on now)"
        table.add_row(reason, "1", _duration(ongoing["seconds"] / 60), *([""] if unended else []))
    return table


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _tokens(counts: dict) -> str:
    return f"{counts['tokens_seen']:,}/{counts['tokens_heard']:,}"


def _duration(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min" if whole or not minutes else "<1 min"
    return f"{whole // 60}h {whole % 60:02d}m"


def _short(name: str, width: int = 14) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def register(app: typer.Typer) -> None:
    app.command()(timeline)
