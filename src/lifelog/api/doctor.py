"""Checks behind ``lifelog doctor``. Each returns {name, status: ok|warn|fail, detail}."""

from __future__ import annotations

import os

from lifelog.config import Settings
from lifelog.paths import Paths
from lifelog.quiet import quiet_onnxruntime


def _check(name: str, fn) -> dict:
    try:
        status, detail = fn()
    except Exception as exc:  # a check that crashes is a failed check, not a crashed doctor
        status, detail = "fail", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return {"name": name, "status": status, "detail": detail}


def _screen():
    from lifelog.capture.desktop import capture_path, describe, open_grabber

    if capture_path() == "portal":  # a check never starts a cast: that could show the desktop's dialog
        from lifelog.capture import portal

        return "ok", f"{portal.check(os.environ)}; {describe()}"
    g = open_grabber()
    try:
        mons = g.monitors()
    finally:
        g.close()
    sizes = ", ".join(f"#{m.index} {m.width}x{m.height}" for m in mons)
    return "ok", f"{len(mons)} monitor(s): {sizes}; {describe()}"


def _window():
    from lifelog.capture.desktop import open_window_source
    from lifelog.capture.window import NoWindowSource

    src = open_window_source()
    if isinstance(src, NoWindowSource):
        from lifelog.capture.desktop import session

        if session().compositor == "gnome":
            from lifelog.capture.gnome import install_hint

            return "warn", f"no window source: {install_hint()}"
        return "warn", "no active-window source on this platform/session; frames carry no app or title"
    w = src.active()
    return "ok", f"{type(src).__name__}: focused app {w.app or '(none)'!r}, title {w.title or '(none)'!r}"


def _ocr(settings: Settings):
    onnxruntime = quiet_onnxruntime()

    from lifelog.tokenize_media.ocr import get_engine

    engine = get_engine(settings.ocr_engine, **settings.ocr_options())
    available = onnxruntime.get_available_providers()
    gpu = "CUDA in use" if "CUDAExecutionProvider" in engine.providers else "CPU only (no CUDA provider)"
    reads = getattr(engine, "reads", "")
    return "ok", (
        f"{engine.id} via onnxruntime {onnxruntime.__version__}: using {', '.join(engine.providers)}; "
        f"available {', '.join(available)}; {gpu}" + (f"; reads {reads}" if reads else "")
    )


def _audio(settings: Settings):
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        return (
            "warn",
            f"sounddevice unavailable ({exc}); install with: pip install 'lifelog[audio]' (and Debian libportaudio2)",
        )
    try:
        devices = [d for d in sd.query_devices() if d["max_input_channels"] > 0]
    except Exception as exc:  # PortAudioError: no sound server, no devices
        return "warn", f"no audio input devices ({str(exc).splitlines()[0]}); screen recording still works"
    names = ", ".join(d["name"] for d in devices[:6]) or "none"
    pulse = any(d["name"] == "pulse" for d in devices)
    system = (
        "system output via the PulseAudio/PipeWire monitor"
        if pulse
        else "no 'pulse' device: system output cannot be recorded"
    )
    status = "ok" if devices and (pulse or "system" not in settings.audio_sources) else "warn"
    return status, f"{len(devices)} input device(s): {names}; {system}; recording: {settings.audio_source}"


def _asr(engine_id: str, settings: Settings):
    from lifelog.tokenize_media.asr import get_asr, settings_options
    from lifelog.tokenize_media.asr.script import resolve
    from lifelog.tokenize_media.asr.weights import AUTO
    from lifelog.tokenize_media.asr.weights import resolve as resolve_model

    engine = get_asr(engine_id, **settings_options(settings))
    gpu = "CUDA" if engine.device == "cuda" else "CPU (no CUDA device)"
    default = " (default)" if engine_id == settings.asr_engine else ""
    model, script = settings.whisper_model, settings.chinese_script
    model = f"{resolve_model(model)} (auto)" if model == AUTO else model
    script = f"{resolve(script)} (auto, from the locale)" if script == "auto" else script
    return "ok", (
        f"{engine.id}{default}: {gpu}, {engine.compute_type}; Whisper {model} reads {engine.reads}; Chinese script: {script}"
    )


def _speakers(settings: Settings):
    """Whether speakers are told apart, and that the bundled speaker model loads."""
    if not settings.speakers:
        return "ok", "off (speakers = false): transcripts do not say who spoke"
    from lifelog.tokenize_media.asr.speakers import get_embedder

    embedder = get_embedder()
    size = embedder.model.stat().st_size / 1e6
    return "ok", f"CAM++ speaker embeddings ({size:.1f} MB, bundled, ONNX Runtime on CPU): who spoke is told"


def _tokenizer(settings: Settings):
    from lifelog.tokenize_media.tokenizers import Tokenizer, get_tokenizer

    tok = get_tokenizer(settings.tokenizer)
    kind = tok.encoding if isinstance(tok, Tokenizer) else f"an upper bound, {tok.factor:g}x bundled vocabularies"
    return "ok", f"{tok.id} ({kind}), bundled offline; 'hello world' = {tok.count('hello world')} tokens"


def _store(paths: Paths, settings: Settings):
    from lifelog.api import open_timeline

    if not paths.db.exists():
        return "warn", f"{paths.db} does not exist yet (created by the first `lifelog record`)"
    timeline = open_timeline(paths, settings)
    try:
        stats = timeline.status()
    finally:
        timeline.close()
    owner = timeline.owner
    mode = oct(os.stat(paths.data).st_mode & 0o777)
    status = "ok" if mode == "0o700" else "warn"
    served = f"served by {owner['role']} PID {owner['pid']}" if owner else "no owner running, opened directly"
    return status, (
        f"{paths.db}: {stats['text_spans']:,} text spans, {stats['db_bytes'] / 1e6:.1f} MB "
        f"({served}); data folder mode {mode}"
    )


def run_checks(paths: Paths, settings: Settings) -> list[dict]:
    return [
        _check("screen", _screen),
        _check("active window", _window),
        _check("ocr", lambda: _ocr(settings)),
        _check("audio", lambda: _audio(settings)),
        *[_check(f"asr {name}", lambda name=name: _asr(name, settings)) for name in _asr_ids()],
        _check("speakers", lambda: _speakers(settings)),
        _check("tokenizer", lambda: _tokenizer(settings)),
        _check("store", lambda: _store(paths, settings)),
    ]


def _asr_ids() -> list[str]:
    from lifelog.tokenize_media.asr import asr_ids

    return asr_ids()
