"""Secret redaction: false positives on ordinary code and prose, true positives on synthetic
secrets of every kind, and the cost per OCR line and per frame.

    .venv/bin/python bench/redact_fp.py [--hits 40] [--json]

Ordinary text: the Python standard library's sources, this project's sources, its git log
messages, the README and Markdown files of the installed packages and of this repository, and
generated git hashes, UUIDs (with and without dashes, upper case) and hex colours. Reports hits
per 100k lines for each body and pattern, and lists the hits. Generated hashes and UUIDs must
give zero hits; every synthetic secret must be caught (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
import sysconfig
import time
import uuid
from collections import Counter
from pathlib import Path

import common
import numpy as np

from lifelog.models import OcrLine
from lifelog.tokenize_media.redact import IBAN_LENGTHS, black_out, default, luhn_ok

ROOT = Path(__file__).resolve().parents[1]
FRAME_LINES = 60  # a dense frame of text
# This repository's files that show secrets on purpose (the redactor's own tests and patterns).
HOLD_SECRETS = {
    "src/lifelog/tokenize_media/redact.py",
    "src/lifelog/tokenize_media/secret_patterns.py",
    "tests/tokenize_media/test_redact.py",
    "tests/cli/test_redaction_e2e.py",
    "bench/redact_fp.py",
}


def _lines_of(files) -> list[tuple[str, str]]:
    out = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out += [(f"{f}:{i}", line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    return out


def bodies() -> dict[str, list[tuple[str, str]]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    site = Path(sysconfig.get_paths()["purelib"])
    git_log = subprocess.run(["git", "-C", str(ROOT), "log", "--format=%B"], capture_output=True, text=True).stdout
    rnd = random.Random(15)
    generated = (
        [uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(20_000)]
        + [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(20_000)]
        + [str(uuid.UUID(int=rnd.getrandbits(128))).upper() for _ in range(10_000)]
        + [f"{rnd.getrandbits(160):040x}" for _ in range(20_000)]
        + [f"commit {rnd.getrandbits(160):040x} ({rnd.getrandbits(28):07x})" for _ in range(10_000)]
        + [f"color: #{rnd.getrandbits(24):06x}; background: #{rnd.getrandbits(24):06X}" for _ in range(10_000)]
    )
    return {
        "stdlib .py": _lines_of(sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)),
        "lifelog sources": _lines_of(
            sorted(
                p
                for d in ("src", "tests", "bench")
                for p in (ROOT / d).rglob("*.py")
                if p.relative_to(ROOT).as_posix() not in HOLD_SECRETS
            )
        ),
        "git log messages": [(f"git log:{i}", line) for i, line in enumerate(git_log.splitlines(), 1) if line.strip()],
        "README / Markdown": _lines_of(
            sorted([*ROOT.glob("*.md"), *site.rglob("*.md"), *site.rglob("README*"), *site.rglob("*.rst")])
        ),
        "git hashes, UUIDs, colours": [(f"generated:{i}", line) for i, line in enumerate(generated, 1)],
    }


# -- synthetic secrets ---------------------------------------------------------------------


def _s(rnd: random.Random, n: int, chars: str = string.ascii_letters + string.digits) -> str:
    return "".join(rnd.choice(chars) for _ in range(n))


def _card(rnd: random.Random) -> str:
    prefix, length = rnd.choice(
        [
            ("4", 16),
            ("51", 16),
            ("55", 16),
            ("2221", 16),
            ("34", 15),
            ("37", 15),
            ("6011", 16),
            ("35", 16),
            ("62", 19),
            ("4", 13),
        ]
    )
    body = prefix + "".join(rnd.choice(string.digits) for _ in range(length - len(prefix) - 1))
    digits = next(body + d for d in string.digits if luhn_ok(body + d))
    sep = rnd.choice([" ", "-", "", " "])
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _iban(rnd: random.Random) -> str:
    country = rnd.choice(sorted(IBAN_LENGTHS))
    bank = "".join(rnd.choice(string.ascii_uppercase) for _ in range(4)) if rnd.random() < 0.3 else ""
    bban = bank + "".join(rnd.choice(string.digits) for _ in range(IBAN_LENGTHS[country] - 4 - len(bank)))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
    iban = f"{country}{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rnd.random() < 0.5 else iban


def secrets(rnd: random.Random, n: int = 50) -> list[tuple[str, str]]:
    """(expected pattern name, line holding one synthetic secret)."""
    makers = {
        "aws-key": lambda: rnd.choice(["AKIA", "ASIA"]) + _s(rnd, 16, string.ascii_uppercase + string.digits),
        "gcp-key": lambda: "AIza" + _s(rnd, 35, string.ascii_letters + string.digits + "-_"),
        "openai-key": lambda: rnd.choice(["sk-", "sk-proj-"]) + _s(rnd, 40) + "7",
        "anthropic-key": lambda: "sk-ant-api03-" + _s(rnd, 60, string.ascii_letters + string.digits + "-_"),
        "github-token": lambda: rnd.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + _s(rnd, 36),
        "gitlab-token": lambda: "glpat-" + _s(rnd, 20, string.ascii_letters + string.digits + "-_"),
        "slack-token": lambda: f"xox{rnd.choice('abprs')}-{rnd.randrange(10**11, 10**12)}-{_s(rnd, 24)}",
        "jwt": lambda: "eyJ" + _s(rnd, 30, string.ascii_letters + "_-") + "." + _s(rnd, 60) + "." + _s(rnd, 43),
        "bearer-token": lambda: "Authorization: Bearer " + _s(rnd, 32) + "9",
        "private-key": lambda: f"-----BEGIN {rnd.choice(['RSA ', 'EC ', 'OPENSSH ', ''])}PRIVATE KEY-----",
        "connection-string": lambda: f"postgres://app:{_s(rnd, 14)}@db{rnd.randrange(9)}.internal:5432/prod",
        "card-number": lambda: _card(rnd),
        "iban": lambda: _iban(rnd),
        "password": lambda: (
            rnd.choice(["password: ", "PASSWORD=", "db_password = '", "Passwd: ", "密码：", "the wifi password is "])
            + _s(rnd, 1)
            + _s(rnd, 11, string.ascii_letters + string.digits + "!#%+")
        ),
    }
    return [(name, f"see {make()} here") for name, make in makers.items() for _ in range(n)]


# -- measuring -----------------------------------------------------------------------------


def false_positives(lines: list[tuple[str, str]], redactor) -> tuple[Counter, list[tuple[str, str, str]]]:
    per, listed = Counter(), []
    for where, text in lines:
        new, names = redactor.redact(text)
        for name in names:
            per[name] += 1
        if names:
            listed.append((where, text.strip()[:160], new.strip()[:160]))
    return per, listed


def timing(lines: list[str], redactor, repeats: int = 3) -> dict:
    """Best of ``repeats``: microseconds per line (``redact``) and per frame of FRAME_LINES OCR
    lines as the pipeline redacts them (``redact_ocr``: reading order, titles, boxes)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for text in lines:
            redactor.redact(text)
        best = min(best, time.perf_counter() - t)
    ocr = [
        OcrLine(text, (40, 12 + 34 * (i % FRAME_LINES), 1200, 40 + 34 * (i % FRAME_LINES)), window="editor")
        for i, text in enumerate(lines)
    ]
    frames = [ocr[i : i + FRAME_LINES] for i in range(0, len(ocr) - FRAME_LINES + 1, FRAME_LINES)]
    best_frames = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for frame in frames:
            redactor.redact_ocr(frame)
        best_frames = min(best_frames, time.perf_counter() - t)
    return {
        "lines": len(lines),
        "us_per_line": round(best / len(lines) * 1e6, 2),
        "mean_chars": round(sum(map(len, lines)) / len(lines), 1),
        "us_per_frame_60_lines": round(best_frames / len(frames) * 1e6, 1),
    }


def black_out_ms(repeats: int = 20) -> float:
    """Painting one line black in a stored 1920x1080 keyframe (a copy is made first)."""
    image = np.full((1080, 1920, 3), 255, np.uint8)
    t = time.perf_counter()
    for _ in range(repeats):
        black_out(image, (0, 0, 1920, 1080), [(40, 500, 1200, 530)])
    return round((time.perf_counter() - t) / repeats * 1e3, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hits", type=int, default=40, help="how many false positives to list")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--max-lines", type=int, default=None, help="at most this many lines of each body")
    args = common.parse(ap, quick={"hits": 3, "max_lines": 2_000})
    redactor = default()
    report: dict = {"bodies": {}, "hits": []}
    total_lines = total_hits = 0
    texts = {body: lines[: args.max_lines] for body, lines in bodies().items()}
    for body, lines in texts.items():
        per, listed = false_positives(lines, redactor)
        report["bodies"][body] = {
            "lines": len(lines),
            "hits": sum(per.values()),
            "per_100k_lines": round(sum(per.values()) / max(len(lines), 1) * 1e5, 1),
            "by_pattern": dict(per.most_common()),
        }
        report["hits"] += [(body, *h) for h in listed]
        total_lines += len(lines)
        total_hits += sum(per.values())
    report["all"] = {
        "lines": total_lines,
        "hits": total_hits,
        "per_100k_lines": round(total_hits / total_lines * 1e5, 1),
    }
    rnd = random.Random(2026)
    missed = [(name, line) for name, line in secrets(rnd) if name not in redactor.redact_lines([line])[0][1]]
    report["true_positives"] = {"secrets": len(secrets(random.Random(2026))), "missed": missed}
    prose = [t for body in ("README / Markdown", "git log messages") for _, t in texts[body]]
    report["timing"] = {
        "code (lifelog sources)": timing([t for _, t in texts["lifelog sources"]], redactor),
        "code (stdlib, first 60k lines)": timing([t for _, t in texts["stdlib .py"]][:60_000], redactor),
        "prose (Markdown, git log)": timing(prose, redactor),
        "black_out_ms_1080p": black_out_ms(),
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        _print(report, args.hits)
    generated = report["bodies"]["git hashes, UUIDs, colours"]["hits"]
    return 1 if missed or generated else 0


def _print(report: dict, n_hits: int) -> None:
    for body, r in report["bodies"].items():
        print(
            f"{body:28} {r['lines']:>9,} lines {r['hits']:>6,} hits  {r['per_100k_lines']:>7} /100k  {r['by_pattern']}"
        )
    a = report["all"]
    print(f"{'all':28} {a['lines']:>9,} lines {a['hits']:>6,} hits  {a['per_100k_lines']:>7} /100k")
    tp = report["true_positives"]
    print(f"true positives: {tp['secrets'] - len(tp['missed'])}/{tp['secrets']} synthetic secrets caught")
    for name, line in tp["missed"]:
        print(f"  MISSED {name}: {line}")
    for body, t in report["timing"].items():
        if isinstance(t, dict):
            print(
                f"cost, {body}: {t['us_per_line']} us per line (mean {t['mean_chars']} chars, {t['lines']:,} lines), "
                f"{t['us_per_frame_60_lines']} us per frame of {FRAME_LINES} OCR lines"
            )
    print(
        f"black_out of one line in a 1920x1080 frame: {report['timing']['black_out_ms_1080p']} ms; "
        f"load average {report['timing']['load_average']:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"false positives (first {n_hits} of {len(report['hits'])}):")
    for body, where, text, new in report["hits"][:n_hits]:
        print(f"  [{body}] {where}\n     {text}\n  -> {new}")


if __name__ == "__main__":
    sys.exit(main())
