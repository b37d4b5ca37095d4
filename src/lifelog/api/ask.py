"""``lifelog ask``: a context window through the facade, the question after it, the answer
streamed from an OpenAI-compatible endpoint, and both kept in the timeline as an ``ask`` event.

The request is laid out for provider prompt caches, which reuse the longest byte prefix a
previous request shared: a fixed system message, then the window (deterministic, chronological,
growing only at its end), then the question, last. Asking twice about the same range reuses
the whole window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from lifelog.api.timeline import Timeline, Window
from lifelog.errors import BudgetError, ContextTooLong, EndpointError
from lifelog.replay.llm import ChatClient, Endpoint
from lifelog.tokenize_media.redact import Redactor
from lifelog.tokenize_media.redact import default as default_redactor
from lifelog.tokenize_media.targets import Choice
from lifelog.tokenize_media.tokenizers import get_tokenizer

SYSTEM = (
    "You answer questions about the user's own computer activity. The user's message holds lifelog's "
    "record of their screen (text seen, by app and window) and of what was said (heard), in time order, "
    "and then their question. Answer from that record, give the times you rely on, and say so when the "
    "record does not contain the answer."
)
QUESTION_MARK = "\n\n---\n\nQuestion: "
MESSAGE_OVERHEAD = 16  # role markers and separators of two chat messages, in any chat template


@dataclass
class Answer:
    text: str
    window: Window
    model: str
    seconds: float
    interrupted: bool = False


def messages(window_text: str, question: str) -> list[dict]:
    """System message, then one user message: the window first and the question last (one user
    message, so chat templates that insist on alternating roles accept it)."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{window_text.rstrip()}{QUESTION_MARK}{question.strip()}"},
    ]


def prompt_cost(question: str, tokenizer: str) -> int:
    """Tokens the request spends beside the window: the system message, the question, framing."""
    return get_tokenizer(tokenizer).count(SYSTEM + QUESTION_MARK + question.strip()) + MESSAGE_OVERHEAD


def ask(
    timeline: Timeline,
    question: str,
    *,
    since: datetime | None,
    until: datetime | None,
    choice: Choice,
    endpoint: Endpoint,
    write: Callable[[str], None],
    clock: Callable[[], datetime] | None = None,
    redactor: Redactor | None = None,
    lessons: bool = False,
) -> Answer:
    """Build the window under what the budget leaves after the question (the lessons kept first,
    with ``lessons``), stream the answer into
    ``write`` piece by piece, record the question and the answer (also a partial one cut by
    Ctrl-C) as an ``ask`` event at the time it was asked, secrets in them redacted (``redactor``,
    else the built-in patterns)."""
    client = ChatClient(endpoint)  # a bad URL fails before any work
    asked_at = (clock or (lambda: datetime.now(UTC)))()
    budget = choice.budget - prompt_cost(question, choice.tokenizer)
    if budget < 1:
        raise BudgetError(
            f"--budget {choice.budget:,} leaves no room for a window after the question "
            f"({prompt_cost(question, choice.tokenizer):,} tokens). Raise --budget."
        )
    # the question aims the window: a range that fits goes in whole, else full detail where it is answered
    window = timeline.context(
        since=since,
        until=until,
        budget=budget,
        fmt="markdown",
        tokenizer=choice.tokenizer,
        query=question,
        lessons=lessons and bool(timeline.lessons()),  # first in the window, a prefix caches reuse
    )
    started = time.monotonic()
    parts: list[str] = []
    answer = Answer("", window, endpoint.model, 0.0)

    def keep(**flags) -> None:
        answer.text, answer.seconds = "".join(parts), round(time.monotonic() - started, 2)
        detail = (redactor or default_redactor()).redact_json(_detail(question, answer, endpoint, since, until))
        timeline.record_event("ask", {**detail, **flags}, at=asked_at)

    try:
        for piece in client.stream(messages(window.text, question)):
            parts.append(piece)
            write(piece)
    except KeyboardInterrupt:
        answer.interrupted = True
        if parts:  # what was already shown is kept, marked as cut short
            keep(interrupted=True)
        raise
    except ContextTooLong as exc:
        raise ContextTooLong(
            f"{exc} The window was {window.tokens:,} tokens ({window.tokenizer}) of --budget "
            f"{choice.budget:,}: lower --budget, narrow --since, or name the model with --model so "
            "lifelog sizes the window for it."
        ) from None
    except EndpointError as exc:
        if parts:
            keep(error=str(exc))
        raise
    keep()
    return answer


def _detail(question: str, answer: Answer, endpoint: Endpoint, since, until) -> dict:
    return {
        "question": question.strip(),
        "answer": answer.text,
        "model": endpoint.model,
        "endpoint": endpoint.where(),
        "window_tokens": answer.window.tokens,
        "tokenizer": answer.window.tokenizer,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "seconds": answer.seconds,
    }
