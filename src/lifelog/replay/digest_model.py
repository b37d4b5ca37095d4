"""Digests written by a model: the user's own, at any OpenAI-compatible endpoint (``digest_base_url``
and ``digest_model``: llama.cpp's server, Ollama, vLLM, a provider). Opt-in, because the text
of the timeline goes there.

The model never reads an hour's 60,000 tokens. It reads what the extractive digest already
chose from (``digest.py``): each distinct line once, menus and repeats out, the hour's most
salient lines (at most ``INPUT_LINES``, clipped), in time order with their window or speaker, a
few thousand tokens; a day's digest reads its hours' digests, a week's its days'. It writes a few
bullet lines in the material's own language: what was done, read, decided and left open. The
digest keeps the extractive head (where the time went, who spoke) and sources, so its moments
are still there to go back to; its ``model`` is the model's name. A bullet at least half of whose
terms are not in what the model was given is dropped (made up), and a reply left with no bullet
is not taken: the extractive digest stands.

``digest_model = local`` (no ``digest_base_url``) runs the model on this machine instead: llama.cpp's
server as a child at nice 19 on one thread, started when a pass first asks and stopped by
:meth:`DigestModel.close` (``local_model.py``).
"""

from __future__ import annotations

import os
from dataclasses import replace

from lifelog.config import Settings
from lifelog.errors import ConfigError
from lifelog.replay import local_model
from lifelog.replay.llm import ChatClient, Endpoint
from lifelog.store import terms
from lifelog.store.digests import Digest

KEY_ENV = "LIFELOG_DIGEST_API_KEY"
INPUT_LINES = 60  # an hour's lines given to the model, its most salient
LINE_CHARS = 200
ANSWER_TOKENS = 300  # a digest is short: the answer is cut here
MAX_BULLETS = 10
GROUNDED = 0.5  # share of a bullet's terms that must be in the material
SYSTEM = (
    "You write a short, faithful digest of a stretch of one person's computer use, from the lines they saw "
    "on screen and the speech they heard. Answer with 3 to 6 lines, each starting with '- ', in the language "
    "of the material: what was worked on, read, decided, and what was left open. Keep names, numbers, "
    "errors and outcomes exactly as written. Invent nothing. No introduction, no conclusion."
)


class DigestModel:
    """Writes digests at an endpoint; :func:`from_settings` makes one when digests are set to."""

    def __init__(self, endpoint: Endpoint, server: local_model.LocalServer | None = None) -> None:
        self.endpoint = replace(endpoint, max_tokens=endpoint.max_tokens or ANSWER_TOKENS)
        self.server = server  # a local model: started at the first call, stopped by close()
        self.client = None if server else ChatClient(self.endpoint)  # a bad URL fails here, before any work
        self.id = endpoint.model

    def _chat(self) -> ChatClient:
        if self.client is None:
            assert self.server is not None
            self.endpoint = replace(self.endpoint, base_url=self.server.start())
            self.client = ChatClient(self.endpoint)
        return self.client

    def close(self) -> None:
        """Stop the local model's server, if one was started (a later call starts it again)."""
        if self.server is not None:
            self.server.close()
            self.client = None

    def rewrite(self, extractive: Digest, material: list[str]) -> Digest:
        """``extractive`` with its lines replaced by the model's account of ``material`` (the
        lines it was chosen from, as shown); unchanged when the model wrote no bullet."""
        what = {"hour": "an hour", "day": "a day", "week": "a week"}[extractive.level]
        head = extractive.text.split("\n", 1)[0] if extractive.text.startswith(("windows:", "heard:")) else ""
        prompt = (
            f"{what.capitalize()} from {extractive.start:%Y-%m-%d %H:%M} UTC. {head}\n\n" + "\n".join(material)
        ).strip()
        # one user message: small local models follow an instruction there better than in a system one
        answer = self._chat().complete([{"role": "user", "content": f"{SYSTEM}\n\n{prompt}"}])
        given = set(terms.terms(prompt))
        kept = [b for b in bullets(answer) if grounded(b, given)]
        if not kept:
            return extractive
        text = "\n".join([head, *kept] if head else kept)
        return replace(extractive, text=text, model=self.id)


def grounded(bullet: str, given: set[str]) -> bool:
    """Whether at least half of a bullet's terms are in what the model was given: a line made
    up (a small model's habit) is left out, so a digest never says what was not seen or heard."""
    own = set(terms.terms(bullet))
    return bool(own) and len(own & given) >= GROUNDED * len(own)


def bullets(answer: str) -> list[str]:
    """The answer's bullet lines ('- ', '* ', '• ' or '1. '), each on one line, at most
    ``MAX_BULLETS``; an answer without any marked line gives its lines (a heading ending in ':'
    left out), as small models often write them."""
    marked, plain = [], []
    for line in answer.splitlines():
        line = " ".join(line.split())
        for mark in ("- ", "* ", "• "):
            if line.startswith(mark):
                marked.append(line[len(mark) :])
                break
        else:
            head, dot, rest = line.partition(". ")
            if dot and head.isdigit():
                marked.append(rest)
            elif line and not line.endswith(":"):
                plain.append(line)
    lines = [x for x in (marked or plain) if sum(c.isalnum() for c in x) >= 3]  # not a stray '#' or fence
    return ["- " + (x if len(x) <= 2 * LINE_CHARS else x[: 2 * LINE_CHARS - 1] + "…") for x in lines[:MAX_BULLETS]]


def from_settings(settings: Settings) -> DigestModel | None:
    """The model digests are written by, or None: extractive (no ``digest_base_url``, and
    ``digest_model`` not ``local``). Close it when done."""
    if settings.digest_model == local_model.LOCAL and not settings.digest_base_url:
        local_model.check_installed()
        gguf = local_model.weights(settings.digest_gguf)
        placeholder = Endpoint("http://127.0.0.1/v1", local_model.writer(gguf), timeout_s=settings.ask_timeout_s)
        return DigestModel(placeholder, server=local_model.LocalServer(gguf))
    if not settings.digest_base_url:
        return None
    if not settings.digest_model:
        raise ConfigError(
            "digest_base_url is set but digest_model is not: name the model to ask "
            "(lifelog config set digest_model NAME), or unset digest_base_url for extractive digests."
        )
    return DigestModel(
        Endpoint(
            settings.digest_base_url,
            settings.digest_model,
            api_key=_api_key(settings),
            timeout_s=settings.ask_timeout_s,
        )
    )


def writer_of(settings: Settings) -> str:
    """The name of the writer the settings ask digests of ("" extractive), without starting anything."""
    if settings.digest_model == local_model.LOCAL and not settings.digest_base_url:
        try:
            return local_model.writer(local_model.weights(settings.digest_gguf))
        except ConfigError:
            return local_model.LOCAL
    return settings.digest_model if settings.digest_base_url else ""


def _api_key(settings: Settings) -> str | None:
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    name = settings.digest_api_key_env
    if name and not os.environ.get(name):
        raise ConfigError(
            f"digest_api_key_env names {name}, which is not set in the environment. Set it, or {KEY_ENV}."
        )
    return os.environ.get(name) if name else None
