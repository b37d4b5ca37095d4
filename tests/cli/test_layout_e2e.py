"""Screens read as a person reads them, end to end on a real X screen: ``lifelog record`` with
real OCR, then ``context`` and ``search``. Columns of a web page come back one after the other,
two windows side by side each under their own app and title, and Python code in a terminal
with its indentation."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter

import pytest

from tests.cli.helpers import lifelog, lifelog_json
from tests.support.web_pages import han, kept_runs, page, prose, words, zh_prose

pytestmark = pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")


@pytest.fixture
def env(screen, home):
    return {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home)}


def record(env, seconds: int = 6) -> None:
    summary = lifelog_json("record", "--duration", f"{seconds}s", "--no-audio", env=env)
    assert summary["frames_kept"] >= 1 and summary["ocr_failures"] == 0, summary


@pytest.mark.parametrize("n", [2, 3])
def test_each_column_of_a_page_comes_back_contiguous(screen, env, tmp_path, n):
    texts = [prose(100 * n + c, 7 if n == 2 else 4) for c in range(n)]
    columns = ["|".join((t[: len(t) // 2].rsplit(" ", 1)[0], t[len(t) // 2 :].split(" ", 1)[1])) for t in texts]
    screen.show_page(
        page(tmp_path, columns, title="Harbour field notes"), title="Harbour field notes", profile=tmp_path / "chromium"
    )
    record(env)
    window = lifelog("context", "--since", "10m", "--budget", "60000", env=env).stdout
    for c, column in enumerate(columns):
        share = kept_runs(column.replace("|", " "), window, words)
        assert share >= 0.95, f"column {c + 1} of {n}: {share:.2f} of its 6-word runs\n{window}"
    assert "# Harbour field notes" in window, "the page's title reads as a heading"


def test_a_chinese_page_reads_column_by_column_without_spaces_between_characters(screen, env, tmp_path):
    columns = [f"{zh_prose(c, 5)}|{zh_prose(c + 10, 4)}" for c in range(2)]
    screen.show_page(
        page(tmp_path, columns, title="港口工作笔记", lang="zh"), title="港口工作笔记", profile=tmp_path / "chromium"
    )
    record(env)
    window = lifelog("context", "--since", "10m", "--budget", "60000", env=env).stdout
    for c, column in enumerate(columns):
        share = kept_runs(column, window, han)
        assert share >= 0.95, f"column {c + 1}: {share:.2f} of its 6-character runs\n{window}"
    assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", window), window
    # issue 9: character recall in the window, and search finds a phrase from inside a line
    truth, seen = Counter(han("".join(columns))), Counter(han(window))
    recall = sum(min(n, seen[ch]) for ch, n in truth.items()) / sum(truth.values())
    assert recall >= 0.98, f"{recall:.3f} of the page's characters\n{window}"
    line = max((ln for ln in window.splitlines() if len(han(ln)) >= 16), key=len)
    chars = "".join(han(line))
    phrase = chars[len(chars) // 2 - 2 : len(chars) // 2 + 2]  # four characters from the middle
    hits = json.loads(lifelog("search", phrase, "--json", env=env).stdout)
    assert hits and phrase in "".join(han(hits[0]["text"])), (phrase, hits[:3])  # the best hit holds it


INVOICES = """Invoice 4821 from Northwind Traders is overdue
Amount payable 1250 euros before the end of November
Contact Maria Lopez about the shipping delay
"""
DEPLOY = """deploy started for billing service version 3
migrated 37 tables without errors
health checks passed on all twelve nodes
"""


def blocks(window: str) -> list[tuple[str, list[str]]]:
    """``(header, lines)`` of each block of a Markdown context window."""
    out: list[tuple[str, list[str]]] = []
    for line in window.splitlines():
        if line.startswith("### "):
            out.append((line, []))
        elif out and line.strip() and not line.startswith("#"):
            out[-1][1].append(line)
    return out


def test_two_windows_side_by_side_each_under_their_own_app_and_title(screen, env, tmp_path):
    (tmp_path / "invoices.txt").write_text(INVOICES)
    (tmp_path / "deploy.txt").write_text(DEPLOY)
    screen.show_text(tmp_path / "invoices.txt", geometry="70x20+0+0", title="invoices - vim")
    screen.show_text(tmp_path / "deploy.txt", geometry="70x20+0+0", title="deploy log")  # focused
    screen.place("invoices - vim", 20, 40)
    screen.place("deploy log", 980, 40)
    record(env)
    window = lifelog("context", "--since", "10m", env=env).stdout
    seen, above = [], ""
    for header, lines in blocks(window):
        if header.endswith(" · same window"):  # a block of the window of the block just above
            seen.append((above, lines))
        elif " · seen · " in header:
            seen.append((header, lines))
        above = header if " · seen · " in header else above if header.endswith(" · same window") else ""
    for title, text in (("invoices - vim", INVOICES), ("deploy log", DEPLOY)):
        mine = " ".join(line for header, lines in seen if header.endswith(f"XTerm — {title}") for line in lines)
        others = " ".join(line for header, lines in seen if not header.endswith(title) for line in lines)
        for expected in text.splitlines():
            assert expected.split()[2] in mine.split(), f"{expected!r} not under {title!r}:\n{window}"
            assert expected not in others, f"{expected!r} also under another window:\n{window}"
    hits = lifelog_json("search", "invoice 4821", env=env)
    assert hits and (hits[0]["app"], hits[0]["window"]) == ("XTerm", "invoices - vim"), hits
    hits = lifelog_json("search", "health checks passed", env=env)
    assert hits and (hits[0]["app"], hits[0]["window"]) == ("XTerm", "deploy log"), hits


SOURCE = """import json


class Ledger:
    def load(self, path):
        rows = []
        with open(path) as handle:
            for line in handle:
                if not line.strip():
                    continue
                customer, amount = line.split(",")
                rows.append((customer, int(amount)))
        return rows

    def totals(self, rows):
        out = {}
        for customer, amount in rows:
            out[customer] = out.get(customer, 0) + amount
        return out


ledger = Ledger()
print(json.dumps(ledger.totals(ledger.load("invoices.csv")), indent=2))
"""


def test_python_in_a_terminal_keeps_its_indentation(screen, env, tmp_path):
    (tmp_path / "ledger.py").write_text(SOURCE)
    screen.show_text(tmp_path / "ledger.py", geometry="100x40+0+0", title="ledger.py")
    record(env)
    window = lifelog("context", "--since", "10m", env=env).stdout
    shown = {line.strip(): line for line in window.splitlines() if line.strip()}
    source = [line for line in SOURCE.splitlines() if line.strip()]
    found = [line for line in source if line.strip() in shown]
    assert len(found) >= 0.8 * len(source), f"{len(found)} of {len(source)} lines read:\n{window}"
    wrong = [(line, shown[line.strip()]) for line in found if shown[line.strip()] != line]
    assert not wrong, f"indentation differs: {wrong}\n{window}"
    assert "\n\n    def totals(self, rows):" in window, "the blank line between the methods"
