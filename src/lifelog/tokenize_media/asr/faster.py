"""The "faster-whisper" engine: Whisper on CTranslate2, int8 on CPU and float16 on CUDA.

It is the default because it is several times faster than the PyTorch reference on CPU
(measured in bench/ASR_RESULTS.md) with the same weights.
"""

from __future__ import annotations

import logging

import numpy as np

from lifelog.errors import EngineError
from lifelog.quiet import quiet_dependencies
from lifelog.tokenize_media.asr.base import AsrEngine, Segment, as_samples, fixed_language
from lifelog.tokenize_media.asr.weights import ct2_dir

log = logging.getLogger(__name__)

DEFAULT_BEAM = 5  # measured: better words than greedy, still RTF < 0.1 with tiny.en int8 on 2 cores


class FasterWhisperEngine(AsrEngine):
    """CTranslate2 Whisper; ``model_path`` is a CTranslate2 model folder (default: bundled tiny.en);
    ``language`` a Whisper code, or None to detect it in each call's audio."""

    id = "faster-whisper"

    def __init__(
        self,
        model_path: str | None = None,
        device: str = "auto",
        compute_type: str | None = None,
        beam_size: int = DEFAULT_BEAM,
        cpu_threads: int = 0,
        language: str | None = None,
    ):
        quiet_dependencies()
        from faster_whisper import WhisperModel

        self.device = resolve_device(device)
        self.compute_type = compute_type or ("float16" if self.device == "cuda" else "int8")
        self.beam_size = beam_size
        self.model_path = ct2_dir(model_path, required=("model.bin", "tokenizer.json"))
        try:
            self._model = WhisperModel(
                str(self.model_path),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError) as exc:  # CTranslate2: bad model file, no CUDA, bad compute type
            raise EngineError(f"faster-whisper cannot load {self.model_path} on {self.device}: {exc}") from exc
        self.multilingual = bool(self._model.model.is_multilingual)
        self.languages = int(self._model.model.num_languages) if self.multilingual else 1
        self.language = fixed_language(language, self.multilingual, self.model_path)

    def transcribe(self, audio: np.ndarray) -> list[Segment]:
        """Segments in the engine's language, or in the one detected in the first 30 s of
        ``audio``; decoding is deterministic (temperature 0) and never conditions on the
        previous window's text, which is what lets one bad window start a repetition loop."""
        samples = as_samples(audio)
        if samples.size == 0:
            return []
        segments, info = self._model.transcribe(
            samples,
            language=self.language,
            task="transcribe",
            beam_size=self.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,  # lifelog runs its own VAD first (asr.vad), shared by both engines
            without_timestamps=False,
        )
        probability = 1.0 if self.language else float(info.language_probability)
        return [_segment(s, info.language, probability) for s in segments]


def resolve_device(device: str) -> str:
    """``auto`` becomes cuda when CTranslate2 sees a CUDA device, else cpu."""
    import ctranslate2

    has_cuda = ctranslate2.get_cuda_device_count() > 0
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if device == "cuda" and not has_cuda:
        raise EngineError("faster-whisper was asked for CUDA, but CTranslate2 sees no CUDA device; use device='cpu'.")
    return device


def _segment(s, language: str, probability: float) -> Segment:
    return Segment(
        start=float(s.start),
        end=float(s.end),
        text=s.text.strip(),
        no_speech_prob=float(s.no_speech_prob),
        avg_logprob=float(s.avg_logprob),
        compression_ratio=float(s.compression_ratio),
        language=language,
        language_probability=probability,
    )
