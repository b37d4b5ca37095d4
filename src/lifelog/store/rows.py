"""The rows the store hands to context windows (``replay/``), named: a field is read by its
name, never by where the SQL put its column. Plain named tuples, so a row costs what a tuple
costs (a focused window reads tens of thousands) and unpacks as one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import NamedTuple, TypeVar

Row = TypeVar("Row", bound=tuple)


def named(kind: type[Row], rows: Iterable[tuple]) -> list[Row]:
    """``rows`` (as the SQL selected them, in the fields' order) as ``kind``: the tuples are
    made in C, not through the named tuple's own ``__new__`` (a focused window names ~10^5)."""
    return list(map(partial(tuple.__new__, kind), rows))


class SeenRow(NamedTuple):
    """A line seen on screen, as shown (its leading blank line or indentation first)."""

    t: datetime
    monitor: int
    app: str
    window: str
    text: str
    tokens: int | None  # its stored o200k count (None: not counted when stored)


class HeardRow(NamedTuple):
    """A segment of speech heard."""

    t: datetime
    source: str  # mic, system or file
    text: str
    tokens: int | None


class SeenInStretch(NamedTuple):
    """A line seen within a stretch asked for (``Reader.seen_rows_within``): ``t`` is its start,
    or the stretch's start when it began earlier."""

    stretch: int  # the stretch's index in the list asked for
    t: datetime
    id: int  # the span's id: one line in several stretches is one row in each
    monitor: int
    app: str
    window: str
    text: str
    tokens: int | None

    def row(self) -> SeenRow:
        return tuple.__new__(SeenRow, (self[1], *self[3:]))  # t, then monitor on


class HeardInStretch(NamedTuple):
    """A segment of speech heard within a stretch asked for (``Reader.heard_rows_within``)."""

    stretch: int
    t: datetime
    id: int
    source: str
    text: str
    tokens: int | None

    def row(self) -> HeardRow:
        return tuple.__new__(HeardRow, (self[1], *self[3:]))  # t, then source on


class HourCost(NamedTuple):
    """What an hour of the timeline costs at full detail (``Reader.token_costs``)."""

    hour: datetime
    tokens: int  # stored o200k tokens of its lines seen and heard, plus one per line


class Totals(NamedTuple):
    """What a stretch of the timeline holds (``Reader.outline_totals``)."""

    lines: int
    tokens: int  # stored o200k tokens
    first: datetime | None
    last: datetime | None
