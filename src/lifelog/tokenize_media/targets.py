"""Target models: which tokenizer counts for a model, how long its context is, how much of it
a window may take, and what an image costs there.

A model name resolves by its longest known prefix after normalising (lower case, without a
provider or organisation prefix such as ``openai/``, ``models/`` or ``meta-llama/``, without an
Ollama tag such as ``:8b``), so dated and sized variants (``gpt-4o-2024-08-06``,
``claude-sonnet-4-5-20250929``, ``Qwen2.5-7B-Instruct``, ``llama3.1:70b``) find their family.
Tokenizer ids (``o200k``, ``claude-approx``, ...) are accepted as names too: they count with
that tokenizer and bring no context length.

Budget rule (``usable_budget``): a window may take the context minus room for the answer,
``max(4,096, 10% of the context)``, and never more than the provider's input limit where one
is published (GPT-5: 272k of its 400k)::

    budget = min(context - max(4096, context // 10), max_input)

Context lengths are the published ones for the API models and the native (not extended)
ones for open-weight models; Claude's 1M-token beta and Qwen's YaRN extensions need an explicit
``--budget``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lifelog.config import DEFAULT_BUDGET, Settings
from lifelog.errors import UsageError
from lifelog.tokenize_media.tokenizers import get_tokenizer, tokenizer_ids

ANSWER_ROOM_MIN = 4096
ANSWER_ROOM_SHARE = 10  # percent of the context kept for the answer


@dataclass(frozen=True)
class Target:
    model: str  # the name as given, e.g. "openai/gpt-4o-2024-08-06"
    name: str  # the family entry that matched, e.g. "gpt-4o"
    tokenizer: str  # an id of tokenizers.get_tokenizer
    context: int | None  # tokens, input + output; None for a bare tokenizer
    provider: str | None = None  # openai, anthropic, google: whose image rates apply
    max_input: int | None = None  # a published input limit below the context

    @property
    def exact(self) -> bool:
        return get_tokenizer(self.tokenizer).exact

    def usable_budget(self) -> int | None:
        if self.context is None:
            return None
        room = max(ANSWER_ROOM_MIN, self.context * ANSWER_ROOM_SHARE // 100)
        return min(self.context - room, self.max_input or self.context)


K = 1024
# prefix -> (tokenizer, context, provider, max_input). Longest matching prefix wins.
_TABLE: dict[str, tuple[str, int, str | None, int | None]] = {
    # OpenAI (o200k: gpt-4o and later; cl100k: gpt-4, gpt-3.5)
    "gpt-4o": ("o200k", 128_000, "openai", None),
    "chatgpt-4o": ("o200k", 128_000, "openai", None),
    "gpt-4.1": ("o200k", 1_047_576, "openai", None),
    "gpt-4.5": ("o200k", 128_000, "openai", None),
    "gpt-5": ("o200k", 400_000, "openai", 272_000),
    "gpt-oss": ("o200k", 131_072, None, None),
    "o1": ("o200k", 200_000, "openai", None),
    "o1-mini": ("o200k", 128_000, "openai", None),
    "o3": ("o200k", 200_000, "openai", None),
    "o4-mini": ("o200k", 200_000, "openai", None),
    "gpt-4": ("cl100k", 8_192, "openai", None),
    "gpt-4-32k": ("cl100k", 32_768, "openai", None),
    "gpt-4-turbo": ("cl100k", 128_000, "openai", None),
    "gpt-4-1106": ("cl100k", 128_000, "openai", None),
    "gpt-4-0125": ("cl100k", 128_000, "openai", None),
    "gpt-3.5-turbo": ("cl100k", 16_385, "openai", None),
    # Anthropic: the v3 tokenizer through Opus 4.6; newer ones (and unknown claude-*) the 4.7 one
    "claude-": ("claude-4.7-approx", 200_000, "anthropic", None),
    "claude-3": ("claude-approx", 200_000, "anthropic", None),
    "claude-sonnet-4": ("claude-approx", 200_000, "anthropic", None),
    "claude-opus-4": ("claude-approx", 200_000, "anthropic", None),
    "claude-haiku-4": ("claude-approx", 200_000, "anthropic", None),
    "claude-opus-4-7": ("claude-4.7-approx", 200_000, "anthropic", None),
    "claude-opus-4-8": ("claude-4.7-approx", 200_000, "anthropic", None),
    # Google
    "gemini-": ("gemini-approx", 1_048_576, "google", None),
    "gemini-1.5-pro": ("gemini-approx", 2_097_152, "google", None),
    "gemini-1.0": ("gemini-approx", 32_760, "google", None),
    "gemma-3": ("gemini-approx", 131_072, None, None),
    "gemma3": ("gemini-approx", 131_072, None, None),  # Ollama's spelling
    "gemma-2": ("gemini-approx", 8_192, None, None),
    "gemma2": ("gemini-approx", 8_192, None, None),
    # Meta Llama 3.x (3.0: 8k; 3.1 and later: 128k)
    "llama3": ("llama3", 8_192, None, None),
    "llama-3": ("llama3", 8_192, None, None),
    "llama3.1": ("llama3", 131_072, None, None),
    "llama-3.1": ("llama3", 131_072, None, None),
    "llama3.2": ("llama3", 131_072, None, None),
    "llama-3.2": ("llama3", 131_072, None, None),
    "llama3.3": ("llama3", 131_072, None, None),
    "llama-3.3": ("llama3", 131_072, None, None),
    # Qwen 2.5 / 3 (one vocabulary; native context, YaRN extensions need --budget)
    "qwen2.5": ("qwen3", 32_768, None, None),
    "qwen-2.5": ("qwen3", 32_768, None, None),
    "qwen2.5-coder": ("qwen3", 32_768, None, None),
    "qwen3": ("qwen3", 32_768, None, None),
    "qwen-3": ("qwen3", 32_768, None, None),
    "qwen3-coder": ("qwen3", 262_144, None, None),
    "qwen3-235b-a22b-instruct-2507": ("qwen3", 262_144, None, None),
    "qwen3-30b-a3b-instruct-2507": ("qwen3", 262_144, None, None),
    "qwq": ("qwen3", 131_072, None, None),
    # Mistral: Tekken since Nemo (2407); SentencePiece for Mistral 7B, Mixtral
    "mistral-large": ("mistral-approx", 131_072, None, None),
    "mistral-medium": ("mistral-approx", 131_072, None, None),
    "mistral-small": ("mistral-approx", 131_072, None, None),
    "mistral-nemo": ("mistral-approx", 131_072, None, None),
    "open-mistral-nemo": ("mistral-approx", 131_072, None, None),
    "ministral": ("mistral-approx", 131_072, None, None),
    "pixtral": ("mistral-approx", 131_072, None, None),
    "codestral": ("mistral-approx", 262_144, None, None),
    "devstral": ("mistral-approx", 131_072, None, None),
    "magistral": ("mistral-approx", 40_960, None, None),
    "mistral": ("mistral-sp-approx", 32_768, None, None),  # Ollama's "mistral" is Mistral 7B
    "mistral-7b": ("mistral-sp-approx", 32_768, None, None),
    "open-mistral-7b": ("mistral-sp-approx", 32_768, None, None),
    "mistral-large-2402": ("mistral-sp-approx", 32_768, None, None),
    "mixtral-8x7b": ("mistral-sp-approx", 32_768, None, None),
    "open-mixtral-8x7b": ("mistral-sp-approx", 32_768, None, None),
    "mixtral-8x22b": ("mistral-sp-approx", 65_536, None, None),
    "open-mixtral-8x22b": ("mistral-sp-approx", 65_536, None, None),
    # DeepSeek V3 / R1 (API names deepseek-chat, deepseek-reasoner); distills use their base's
    "deepseek-chat": ("deepseek-approx", 131_072, None, None),
    "deepseek-reasoner": ("deepseek-approx", 131_072, None, None),
    "deepseek-v3": ("deepseek-approx", 131_072, None, None),
    "deepseek-r1": ("deepseek-approx", 131_072, None, None),
    "deepseek-v4": ("deepseek-approx", 1_048_576, None, None),
    "deepseek-r1-distill-qwen": ("qwen3", 131_072, None, None),
    "deepseek-r1-distill-llama": ("llama3", 131_072, None, None),
}

FAMILIES = (
    "gpt-4o",
    "gpt-4.1",
    "o1/o3/o4-mini",
    "gpt-5",
    "gpt-4",
    "gpt-3.5-turbo",
    "claude-*",
    "gemini-*",
    "gemma3",
    "llama3.x",
    "qwen2.5/qwen3",
    "mistral*/mixtral/codestral",
    "deepseek-chat/-reasoner/-v3/-r1",
)


def normalise(name: str) -> str:
    key = name.strip().lower().rsplit("/", 1)[-1].split(":", 1)[0]
    return key.removeprefix("meta-")


def resolve(name: str) -> Target:
    """The target for a model name (or a tokenizer id); UsageError naming the families."""
    key = normalise(name)
    if key in tokenizer_ids() and key not in _TABLE:  # gpt-4o, llama3, qwen3: the model's entry
        return Target(name, key, key, None)
    match = max((p for p in _TABLE if key.startswith(p)), key=len, default=None)
    if match is None:
        raise UsageError(
            f"Unknown model {name!r}. Known families: {', '.join(FAMILIES)}. Or name a tokenizer "
            f"and a budget directly: --tokenizer {'|'.join(t for t in tokenizer_ids() if not t.startswith('gpt-'))} --budget 32k."
        )
    tokenizer, context, provider, max_input = _TABLE[match]
    return Target(name, match, tokenizer, context, provider, max_input)


def known_names() -> list[str]:
    return sorted(_TABLE)


@dataclass(frozen=True)
class Choice:
    """What a window is counted with and how big it may be, and why."""

    target: Target | None
    tokenizer: str
    budget: int
    budget_from: str  # for notes: "--budget", "config", "gpt-4o's context", "default"

    def warning(self) -> str | None:
        """A note when the budget leaves the model too little room (the provider would refuse)."""
        target = self.target
        usable = target.usable_budget() if target else None
        if target is None or usable is None or self.budget <= usable:
            return None
        return (
            f"note: a budget of {self.budget:,} is above what {target.model} can take with room for an "
            f"answer ({usable:,} of its {target.context:,}-token context)."
        )


def choose(
    settings: Settings, *, model: str | None = None, tokenizer: str | None = None, budget: int | None = None
) -> Choice:
    """Tokenizer and budget for a window. The tokenizer: ``tokenizer``, else the model's, else
    ``settings.tokenizer``. The budget: ``budget`` (the flag), else the usable context of a model
    named on the command line, else ``budget`` from config/environment, else the usable context of
    the configured model, else 8,000. A model name lifelog does not know is an error, unless a
    tokenizer is named too (``lifelog ask`` sends any name to the endpoint)."""
    name = model or settings.model or None
    target = None
    if name:
        try:
            target = resolve(name)
        except UsageError:
            if not tokenizer:
                raise
    tok = tokenizer or (target.tokenizer if target else settings.tokenizer)
    get_tokenizer(tok)  # an unknown id fails here, naming the valid ones
    usable = target.usable_budget() if target else None
    if budget is not None:
        return Choice(target, tok, budget, "--budget")
    if model and target and usable:
        return Choice(target, tok, usable, f"{target.name}'s context")
    if settings.budget:
        return Choice(target, tok, settings.budget, "config")
    if target and usable:
        return Choice(target, tok, usable, f"{target.name}'s context")
    return Choice(target, tok, DEFAULT_BUDGET, "default")


# -- images ---------------------------------------------------------------------------------
def image_tokens(target: Target, width: int, height: int, *, detail: str = "high") -> int:
    """Tokens one image of ``width`` x ``height`` pixels costs at the target's provider,
    from the providers' published rules. UsageError for a model without image input here."""
    if width < 1 or height < 1:
        raise UsageError(f"Bad image size {width}x{height}.")
    if target.provider == "openai":
        return openai_image_tokens(width, height, detail=detail, model=normalise(target.model))
    if target.provider == "anthropic":
        return anthropic_image_tokens(width, height)
    if target.provider == "google":
        return gemini_image_tokens(width, height)
    raise UsageError(
        f"lifelog has no image rate for {target.name!r}: images are counted for OpenAI, Anthropic and Google models."
    )


# OpenAI's small models count 32-px patches (at most 1,536) times a multiplier.
_OPENAI_PATCH_MODELS = {
    "gpt-4.1-mini": 1.62,
    "gpt-5-mini": 1.62,
    "gpt-4.1-nano": 2.46,
    "gpt-5-nano": 2.46,
    "o4-mini": 1.72,
}


def openai_image_tokens(width: int, height: int, *, detail: str = "high", model: str = "gpt-4o") -> int:
    """Tile models (gpt-4o, gpt-4.1, gpt-5, o1, o3): ``base + per_tile x tiles`` with 512-px
    tiles after fitting in 2048x2048 and scaling the short side to 768; 85 + 170 (gpt-5's
    70 + 140 and o1/o3's 75 + 150 are counted as 85 + 170, an upper bound), gpt-4o-mini
    2,833 + 5,667; ``detail="low"`` is the base alone. Patch models (gpt-4.1-mini/-nano,
    gpt-5-mini/-nano, o4-mini): 32-px patches, at most 1,536, times the model's multiplier."""
    multiplier = next((m for prefix, m in _OPENAI_PATCH_MODELS.items() if model.startswith(prefix)), None)
    if multiplier is not None:
        return math.ceil(min(1536, math.ceil(width / 32) * math.ceil(height / 32)) * multiplier)
    base, per_tile = (2833, 5667) if model.startswith("gpt-4o-mini") else (85, 170)
    if detail == "low":
        return base
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return base + per_tile * math.ceil(w / 512) * math.ceil(h / 512)


def anthropic_image_tokens(width: int, height: int) -> int:
    """(width x height) / 750 after Claude's resize: long edge at most 1568 px and at most
    about 1.15 megapixels (so never above ~1,600 tokens)."""
    scale = min(1.0, 1568 / max(width, height), math.sqrt(1_150_000 / (width * height)))
    return math.ceil(int(width * scale) * int(height * scale) / 750)


def gemini_image_tokens(width: int, height: int) -> int:
    """258 for an image up to 384x384; larger ones are cut into square tiles of
    min(width, height) / 1.5 px (clamped to 256..768), 258 each (Gemini 2.0 and later)."""
    if width <= 384 and height <= 384:
        return 258
    unit = min(768, max(256, int(min(width, height) / 1.5)))
    return 258 * math.ceil(width / unit) * math.ceil(height / unit)
