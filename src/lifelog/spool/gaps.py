"""Gaps capture leaves in the spool: a stretch it chose not to keep (a screen covered by
excluded windows, sound while an excluded window had focus) becomes a small JSON marker,
written atomically when the stretch ends (or capture stops), which the pipeline stores as a
``gap`` event and then deletes. A marker names no window: only when, why and what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lifelog.paths import atomic_private_file, make_private_dir

GAP_SUFFIX = ".gap"


@dataclass
class SpooledGap:
    since: datetime
    until: datetime
    reason: str  # "excluded"
    detail: dict = field(default_factory=dict)  # {"monitor": 1} or {"sound": true}, counts

    def event(self) -> tuple[datetime, str, dict]:
        return self.since, "gap", {"reason": self.reason, "until": self.until, **self.detail}


def write_gap(folder: Path, gap: SpooledGap, tag: str) -> Path:
    """Atomically write ``gap``; ``tag`` tells apart markers of one moment (``m01``, ``sound``)."""
    make_private_dir(folder)
    final = folder / f"{gap.since.strftime('%Y%m%dT%H%M%S%f')}-{tag}{GAP_SUFFIX}"
    body = {"since": gap.since.isoformat(), "until": gap.until.isoformat(), "reason": gap.reason, **gap.detail}
    with atomic_private_file(final) as fh:
        fh.write(json.dumps(body).encode())
    return final


def read_gap(path: Path) -> SpooledGap:
    """A marker back; ``ValueError`` for one that is not."""
    try:
        body = json.loads(path.read_text())
        since, until = datetime.fromisoformat(body.pop("since")), datetime.fromisoformat(body.pop("until"))
        return SpooledGap(since, until, str(body.pop("reason")), body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path.name}: not a gap marker ({exc})") from exc


def pending_gaps(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == GAP_SUFFIX and not p.name.startswith("."))
