"""Secret redaction: text seen or heard that looks like a secret is replaced by a typed marker,
``[redacted: NAME]``, before anything is stored (OCR lines, transcripts, imported timelines,
the questions and answers ``lifelog ask`` keeps). The text around a secret stays.

The built-in patterns and their names are in ``secret_patterns.py``. More come from
``redact_patterns`` (name -> regex): the whole match is replaced, or only its group named
``secret`` when it has one. Git hashes, UUIDs, hex colours, version strings, dates and ordinary
digits are not secrets: ``bench/redact_fp.py`` measures false positives on ordinary code and
prose (and that every kind of synthetic secret is caught).

Cost: one lower-case search decides whether a line needs more; the patterns whose hints it
passes then run as one compiled alternation (``bench/redact_fp.py``: microseconds per line and
per frame). In the pipeline the boxes of redacted lines are painted black in the stored image.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

import numpy as np

from lifelog.models import Box, OcrLine
from lifelog.tokenize_media.secret_patterns import (  # noqa: F401 (IBAN_LENGTHS, iban_ok, luhn_ok: re-exported)
    ANY_HINT,
    BUILTIN,
    IBAN_LENGTHS,
    KEY_END,
    KEY_LINE,
    Pattern,
    iban_ok,
    luhn_ok,
)

MARKER = "[redacted: {}]"
EXCLUDED = "excluded-title"  # the marker of a screen line that showed an excluded window's title
BOX_PAD = 3  # pixels around a redacted line's box also blacked out (the detector's box can be tight)


def marker(name: str) -> str:
    return MARKER.format(name)


# -- the redactor -------------------------------------------------------------------------


class Redactor:
    """Replaces secrets in text: ``redact(text) -> (text, names of what was redacted)``."""

    def __init__(
        self,
        patterns: tuple[Pattern, ...] = BUILTIN,
        extra: dict[str, str] | None = None,
        excluded_titles: tuple[str, ...] = (),
    ) -> None:
        self.patterns = patterns
        # a screen line that shows an excluded title (a taskbar button, an Alt-Tab list, a tab
        # strip) goes whole: the window is blanked at capture, but its title is shown elsewhere
        self._excluded = [re.compile(t) for t in excluded_titles]
        self._hints = [(i, p.hint) for i, p in enumerate(patterns)]
        self._regexes: dict[tuple[int, ...], re.Pattern] = {}
        self._extra = [(name, re.compile(regex)) for name, regex in (extra or {}).items()]

    @classmethod
    def from_settings(cls, settings) -> Redactor:
        """The built-ins less ``redact_disable``, plus ``redact_patterns`` (settings already
        validated: names known, regexes compile); screen lines showing an ``exclude_titles``
        title are taken out whole."""
        return _cached(
            tuple(settings.redact_disable),
            tuple(sorted(settings.redact_patterns.items())),
            tuple(settings.exclude_titles),
        )

    def redact(self, text: str) -> tuple[str, list[str]]:
        if not text:
            return text, []
        found: list[str] = []
        raw, low = text.encode(), text.lower()
        digits = len(raw) - len(raw.translate(None, b"0123456789"))
        wanted: tuple[int, ...] = ()
        if digits >= 6 or ANY_HINT.search(low):  # most lines: no, and no more work
            wanted = tuple(i for i, hint in self._hints if hint(text, low, digits))
        if wanted:
            text = self._regex(wanted).sub(lambda m: self._replace(m, found), text)
        for name, regex in self._extra:
            text = regex.sub(functools.partial(_replace_extra, name=name, found=found), text)
        return text, found

    def redact_lines(self, texts: list[str]) -> list[tuple[str, list[str]]]:
        """Each line redacted, in reading order; the base64 lines after an unfinished
        ``BEGIN ... PRIVATE KEY`` line (and its END line) are redacted whole."""
        out, in_key = [], False
        for text in texts:
            if in_key and (KEY_LINE.match(text) or KEY_END.search(text)):
                in_key = not KEY_END.search(text)
                out.append((marker("private-key"), ["private-key"]))
                continue
            new, names = self.redact(text)
            in_key = "private-key" in names and not KEY_END.search(text)
            out.append((new, names))
        return out

    def redact_json(self, value):
        """Every string inside a JSON-able value (dict, list) redacted; returns the new value."""
        if isinstance(value, str):
            return self.redact(value)[0]
        if isinstance(value, dict):
            return {k: self.redact_json(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_json(v) for v in value]
        return value

    def redact_ocr(self, lines: list[OcrLine]) -> tuple[list[OcrLine], list[Box]]:
        """A frame's OCR lines (reading order) redacted, their window titles too, and the boxes
        of the lines that held a secret (to black out in the stored image)."""
        texts = [
            (marker(EXCLUDED), [EXCLUDED]) if any(t.search(line.text) for t in self._excluded) else done
            for line, done in zip(lines, self.redact_lines([line.text for line in lines]))
        ]
        titles: dict[str, str] = {}
        out, boxes = [], []
        for line, (text, names) in zip(lines, texts):
            window = line.window
            if window:
                window = titles.setdefault(window, self.redact(window)[0])
            if names:
                boxes.append(line.box)
            out.append(replace(line, text=text, window=window) if names or window != line.window else line)
        return out, boxes

    def _regex(self, wanted: tuple[int, ...]) -> re.Pattern:
        """One alternation of the patterns a line's hints asked for (compiled once per set)."""
        regex = self._regexes.get(wanted)
        if regex is None:
            parts = [f"(?P<p{i}>{self.patterns[i].regex.replace('(?P<secret>', f'(?P<s{i}>')})" for i in wanted]
            regex = self._regexes[wanted] = re.compile("|".join(parts))
        return regex

    def _replace(self, m: re.Match, found: list[str]) -> str:
        assert m.lastgroup is not None  # every alternative is a named group, p<i>
        i = int(m.lastgroup[1:])
        p = self.patterns[i]
        start, end = m.span(f"s{i}") if f"s{i}" in m.re.groupindex and m.group(f"s{i}") is not None else m.span()
        if p.check is not None and not p.check(m, m.string[start:end]):
            return m.group(0)
        found.append(p.name)
        base = m.start()
        whole = m.group(0)
        return whole[: start - base] + marker(p.name) + whole[end - base :]


def _replace_extra(m: re.Match, name: str, found: list[str]) -> str:
    """A user pattern's match (or its ``secret`` group) as the marker; an empty match (``x*``)
    is nothing to hide and stays as it is."""
    start, end = m.span("secret") if "secret" in m.re.groupindex and m.group("secret") is not None else m.span()
    if start == end:
        return m.group(0)
    found.append(name)
    return m.group(0)[: start - m.start()] + marker(name) + m.group(0)[end - m.start() :]


@functools.lru_cache(maxsize=8)
def _cached(
    disabled: tuple[str, ...], extra: tuple[tuple[str, str], ...], excluded_titles: tuple[str, ...] = ()
) -> Redactor:
    return Redactor(tuple(p for p in BUILTIN if p.name not in disabled), dict(extra), excluded_titles)


def black_out(image: np.ndarray, region: Box, boxes: list[Box], pad: int = BOX_PAD) -> np.ndarray:
    """``image`` (the pixels of ``region`` of a frame) with every box (full-frame coordinates,
    widened by ``pad`` pixels) that falls inside it painted black; a copy when anything is."""
    left, top, right, bottom = region
    out = image
    for x0, y0, x1, y1 in boxes:
        x0, y0 = max(x0 - pad, left), max(y0 - pad, top)
        x1, y1 = min(x1 + pad, right), min(y1 + pad, bottom)
        if x0 < x1 and y0 < y1:
            if out is image:
                out = image.copy()
            out[y0 - top : y1 - top, x0 - left : x1 - left] = 0
    return out


def default() -> Redactor:
    """The built-in patterns, all of them."""
    return _cached((), ())
