"""``lifelog ask``: ask a model about your activity; the answer streams to stdout."""

from __future__ import annotations

import os
import sys

import typer

from lifelog.cli.common import BudgetOpt, JsonOpt, Runtime, SinceOpt, TokenizerOpt, UntilOpt, err, print_json
from lifelog.config import Settings
from lifelog.errors import ConfigError, UsageError
from lifelog.timespec import parse_range

KEY_ENV = "LIFELOG_ASK_API_KEY"


def ask(
    question: str = typer.Argument(..., help="What you want to know about what you did, saw or heard."),
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    budget: int | None = BudgetOpt,
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="The model to ask, as the endpoint names it "
        "(also picks the tokenizer and the budget). Default: `model` in config.",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1. Default: `ask_base_url` in config.",
    ),
    api_key_env: str | None = typer.Option(
        None,
        "--api-key-env",
        help="The environment variable holding the "
        f"API key. Default: {KEY_ENV}, else the one `ask_api_key_env` names in config.",
    ),
    tokenizer: str | None = TokenizerOpt,
    allow_insecure: bool = typer.Option(
        False,
        "--allow-insecure",
        help="Send the API key over plain http:// to "
        "another machine (refused by default: anyone on the way could read it).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Ask a model about your activity: a context window of the range, then your question, sent to an
    OpenAI-compatible endpoint (OpenAI, llama.cpp, vLLM, Ollama, ...); the answer streams to stdout
    and is kept in the timeline. The only command that connects anywhere, and only to the URL given.

    Example: lifelog ask "what did Dana say about the budget?" --since 3d
    """
    from lifelog.api.ask import ask as ask_model
    from lifelog.replay.llm import Endpoint
    from lifelog.tokenize_media.redact import Redactor
    from lifelog.tokenize_media.targets import choose

    if not question.strip():
        raise UsageError("Empty question: say what you want to know.")
    start, end = parse_range(since, until)
    rt = Runtime.load(ask_base_url=base_url, ask_api_key_env=api_key_env, model=model)
    key = key_of(rt.settings, flag=api_key_env)
    endpoint = Endpoint(
        base_url_of(rt.settings), model_of(rt.settings), key, rt.settings.ask_timeout_s, allow_insecure=allow_insecure
    )
    choice = choose(rt.settings, model=model, tokenizer=tokenizer, budget=budget)
    if choice.warning():
        err.print(choice.warning(), highlight=False)
    write = (lambda _: None) if json_out else _stream_out
    timeline = rt.timeline()
    try:
        answer = ask_model(
            timeline,
            question,
            since=start,
            until=end,
            choice=choice,
            endpoint=endpoint,
            write=write,
            redactor=Redactor.from_settings(rt.settings),
            lessons=rt.settings.ask_lessons,
        )
    finally:
        timeline.close()
    if json_out:
        print_json(
            {
                "question": question,
                "answer": answer.text,
                "model": answer.model,
                "seconds": answer.seconds,
                "window": answer.window.meta(),
            }
        )
        return
    if answer.text and not answer.text.endswith("\n"):
        _stream_out("\n")
    err.print(
        f"{answer.window.note()}; answered by {answer.model} in {answer.seconds:g} s; kept in the timeline",
        highlight=False,
    )


def _stream_out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def base_url_of(settings: Settings) -> str:
    if not settings.ask_base_url:
        raise ConfigError(
            "No model endpoint is set, and lifelog connects nowhere until told: pass --base-url "
            "(http://127.0.0.1:8080/v1 for llama.cpp, http://127.0.0.1:11434/v1 for Ollama, "
            "https://api.openai.com/v1) or set ask_base_url in config.toml or LIFELOG_ASK_BASE_URL."
        )
    return settings.ask_base_url


def model_of(settings: Settings) -> str:
    if not settings.model:
        raise ConfigError("Name the model to ask: --model NAME, or model in config.toml or LIFELOG_MODEL.")
    return settings.model


def key_of(settings: Settings, flag: str | None) -> str | None:
    """From the variable --api-key-env names, else LIFELOG_ASK_API_KEY, else the one ask_api_key_env
    names; no key is fine (local servers)."""
    if not flag and os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    name = settings.ask_api_key_env  # the flag, when given, is already in the settings
    if name and not os.environ.get(name):
        raise ConfigError(f"ask_api_key_env names {name}, which is not set in the environment. Set it, or {KEY_ENV}.")
    return os.environ.get(name) if name else None


def register(app: typer.Typer) -> None:
    app.command()(ask)
