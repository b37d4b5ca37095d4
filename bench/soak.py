"""Soak: the real daemon records a changing screen for ``--minutes``; fps, memory and CPU over time.

    .venv/bin/python bench/soak.py [--minutes 60] [--sample 30] [--warmup 5] [--jsonl FILE]

A private 1920x1080 Xvfb screen shows an xterm (100x30) printing "ticket N ready for review"
every 0.3 s, and every ``--flip`` seconds a full-screen xterm with a new page of shuffled
``ls -la`` output appears for 8 s and goes away (two full-screen changes). ``lifelog daemon
start`` (audio off, fresh LIFELOG_HOME) records it. Every ``--sample`` seconds the owner's
status over the socket is read (fps_achieved, late ticks, frames kept/shed, backlog, RSS per
process) and the CPU of each process over the interval is taken from /proc (the owner
tokenises: OCR and the store; its children capture). Rate per interval = (target ticks -
late ticks) / seconds: the capture loop either grabs each tick of its grid or counts it late.

Reported: fps overall (status) and the lowest interval; owner RSS after ``--warmup`` minutes
vs at the end, and (swing-proof) the median of the 10 minutes after warm-up vs the median of the
last 10 with the least-squares trend (growth %, goal <= 5 %); CPU of capture and of tokenising; frames kept/shed;
largest backlog. Samples are written as JSON lines to ``--jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT

from tests.support.xscreen import XScreen

TICKER = 'i=100; while true; do i=$((i+1)); echo "ticket $i ready for review $(date +%T)"; sleep 0.3; done'
PAGE = "ls -la /usr/lib /usr/bin | shuf | head -68; sleep 8"
BIN = Path(sys.executable).parent


cpu_s = common.cpu_seconds  # None once the process is gone


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def sample(remote, prev: dict | None, owner_pid: int) -> dict:
    o = remote.status()["owner"]
    now = time.monotonic()
    procs = {p["pid"]: p for p in o["processes"]}
    cpu = {pid: cpu_s(pid) for pid in procs}
    s = {
        "t": now,
        "fps_status": o["fps_achieved"],
        "late": o["late_ticks"],
        "kept": o["frames_kept"],
        "shed": o["frames_shed"],
        "backlog": o["backlog_frames"],
        "load": loadavg(),
        "cpu_s": cpu,
        "procs": [
            {**p, "role": "owner (tokenising)" if pid == owner_pid else "capture/child"} for pid, p in procs.items()
        ],
        "fps_target": o["fps_target"],
    }
    if prev is not None:
        dt = now - prev["t"]
        s["fps"] = (o["fps_target"] * dt - (s["late"] - prev["late"])) / dt
        s["cpu_pct"] = {
            pid: 100 * (c - prev["cpu_s"][pid]) / dt
            for pid, c in cpu.items()
            if c is not None and prev["cpu_s"].get(pid) is not None
        }
    return s


def flipper(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        ["xterm", "-geometry", "230x70+0+0", "-fa", "DejaVu Sans Mono", "-fs", "13", "-e", "sh", "-c", PAGE],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(args) -> tuple[list[dict], dict, float]:
    home = Path(tempfile.mkdtemp(prefix="soak.")) / "home"
    os.environ.update(LIFELOG_HOME=str(home), LIFELOG_AUDIO_SOURCE="none")
    from lifelog.api.client import find_owner
    from lifelog.paths import Paths

    screen = XScreen()
    env = {**screen.env, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    ticker = subprocess.Popen(
        ["xterm", "-geometry", "100x30+0+0", "-fa", "DejaVu Sans Mono", "-fs", "13", "-e", "sh", "-c", TICKER],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[dict] = []
    page = None
    out = open(args.jsonl, "w") if args.jsonl else None
    stop_s = None
    try:
        started = json.loads(
            subprocess.run(
                [str(BIN / "lifelog"), "daemon", "start", "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            ).stdout
        )
        pid = started["pid"]
        print(f"# daemon PID {pid}, home {home}", file=sys.stderr, flush=True)
        remote = find_owner(Paths.from_env())
        t0 = time.monotonic()
        end, next_sample, next_flip = t0 + 60 * args.minutes, t0, t0 + args.flip
        while True:
            now = time.monotonic()
            if now >= next_sample:
                s = sample(remote, samples[-1] if samples else None, pid)
                s["min"] = (s["t"] - t0) / 60
                samples.append(s)
                if out:
                    out.write(json.dumps(s) + "\n")
                    out.flush()
                owner_rss = next((p["rss_mb"] for p in s["procs"] if p["pid"] == pid), None)
                print(
                    f"# {s['min']:5.1f} min: fps {s.get('fps', 0):.2f} (status {s['fps_status']}), owner RSS "
                    f"{owner_rss} MB, kept {s['kept']}, shed {s['shed']}, backlog {s['backlog']}, load {s['load']}",
                    file=sys.stderr,
                    flush=True,
                )
                if now >= end:
                    break
                next_sample += args.sample
            if now >= next_flip:
                if page is not None:
                    page.wait(30)
                page, next_flip = flipper(env), next_flip + args.flip
            time.sleep(max(0.05, min(next_sample, next_flip) - time.monotonic()))
        remote.close()
        t = time.perf_counter()
        subprocess.run([str(BIN / "lifelog"), "daemon", "stop"], env=env, capture_output=True, timeout=900)
        stop_s = time.perf_counter() - t
    finally:
        if stop_s is None:  # a step failed: stop the daemon too, or it outlives the bench
            subprocess.run([str(BIN / "lifelog"), "daemon", "stop"], env=env, capture_output=True, timeout=900)
        for p in (page, ticker):
            if p is not None and p.poll() is None:
                p.terminate()
        screen.stop()
        if out:
            out.close()
    return samples, started, stop_s


def rss_trend(points: list[tuple[float, float]], warmup: float, span: float = 10.0) -> tuple[float, float, float]:
    """(minute, MB) samples -> median RSS over ``span`` minutes after ``warmup``, median over the
    last ``span`` minutes, and the least-squares slope after warm-up in MB per hour. RSS swings
    by 100 MB as batches come and go; one sample at each end measures the swing, not a leak."""
    after = [(m, r) for m, r in points if m >= warmup]
    end = after[-1][0]
    first = statistics.median(r for m, r in after if m <= warmup + span)
    last = statistics.median(r for m, r in after if m >= end - span)
    mean_m, mean_r = statistics.mean(m for m, _ in after), statistics.mean(r for _, r in after)
    slope = sum((m - mean_m) * (r - mean_r) for m, r in after) / max(1e-9, sum((m - mean_m) ** 2 for m, _ in after))
    return first, last, slope * 60


def report(samples: list[dict], started: dict, stop_s: float, args) -> None:
    pid = started["pid"]
    intervals = [s for s in samples if "fps" in s]
    length = samples[-1]["min"]
    warm = next((s for s in samples if s["min"] >= args.warmup), samples[0])
    rss = lambda s: next(p["rss_mb"] for p in s["procs"] if p["pid"] == pid)
    rss_w, rss_end = rss(warm), rss(samples[-1])
    rss_max = max(rss(s) for s in samples if s["min"] >= args.warmup)
    total = lambda key: (
        sum(
            sum(v for p, v in s["cpu_pct"].items() if (int(p) == pid) == key) * (s["t"] - prev["t"])
            for prev, s in zip(samples, samples[1:])
        )
        / (samples[-1]["t"] - samples[0]["t"])
    )
    owner_cpu, child_cpu = total(True), total(False)
    per = lambda key: [sum(v for p, v in s["cpu_pct"].items() if (int(p) == pid) == key) for s in intervals]
    last = samples[-1]
    children = [p for p in last["procs"] if p["pid"] != pid]
    fps = [s["fps"] for s in intervals]
    print(
        f"\n{length:.1f} min of recording (sampled every {args.sample:g} s, {len(intervals)} intervals), "
        f"then `lifelog daemon stop` ({stop_s:.1f} s). Load average during the run: "
        f"{statistics.mean(s['load'] for s in samples):.1f} mean, {max(s['load'] for s in samples):.1f} max.\n"
    )
    print("| measure | value | goal |\n|---|---:|---:|")
    print(f"| fps achieved, whole run (status `fps_achieved`) | **{last['fps_status']}** | ≥ 1.95 |")
    print(f"| fps per {args.sample:g} s interval: min / median | {min(fps):.2f} / {statistics.median(fps):.2f} | |")
    print(f"| late ticks, whole run | {last['late']} | |")
    print(
        f"| owner RSS at {warm['min']:.1f} min → end ({length:.1f} min) | {rss_w:.1f} → {rss_end:.1f} MB "
        f"(**{100 * (rss_end - rss_w) / rss_w:+.1f} %**; max after warm-up {rss_max:.1f}) | ≤ +5 % |"
    )
    med_w, med_end, slope = rss_trend([(s["min"], rss(s)) for s in samples], args.warmup)
    print(
        f"| owner RSS, median of the 10 min after warm-up → of the last 10 min (swings cancel) | "
        f"{med_w:.1f} → {med_end:.1f} MB (**{100 * (med_end - med_w) / med_w:+.1f} %**) | ≤ +5 % |"
    )
    print(f"| owner RSS trend after warm-up (least squares) | {slope:+.1f} MB/hour | |")
    for p in children:
        first = next((q["rss_mb"] for q in warm["procs"] if q["pid"] == p["pid"]), None)
        print(
            f"| child {p['name']} (PID {p['pid']}) RSS at {warm['min']:.1f} min → end | {first} → {p['rss_mb']} MB | |"
        )
    print(
        f"| CPU of tokenising (owner: OCR, store, API), mean / max interval | {owner_cpu:.1f} % / "
        f"{max(per(True)):.0f} % of one core | |"
    )
    print(
        f"| CPU of capture (children), mean / max interval | {child_cpu:.1f} % / {max(per(False)):.1f} % of one core | |"
    )
    print(f"| frames kept / shed | {last['kept']:,} / {last['shed']:,} | |")
    print(
        f"| backlog (frames in the spool): max / at end | {max(s['backlog'] for s in samples)} / {last['backlog']} | |"
    )
    print(
        "\nOwner RSS by time (MB): "
        + ", ".join(f"{s['min']:.0f}′ {rss(s):.0f}" for s in samples[:: max(1, len(samples) // 12)])
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample", type=float, default=30, help="seconds between status samples")
    ap.add_argument("--warmup", type=float, default=5, help="minutes before the RSS baseline")
    ap.add_argument("--flip", type=float, default=60, help="seconds between full-screen pages")
    ap.add_argument("--jsonl", default=None, help="write every sample here")
    args = common.parse(ap, quick={"minutes": 0.1, "sample": 2, "warmup": 0.05, "flip": 3})
    samples, started, stop_s = run(args)
    report(samples, started, stop_s, args)


if __name__ == "__main__":
    main()
