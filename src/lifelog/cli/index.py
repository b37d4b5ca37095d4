"""``lifelog index``: embed the minutes of the timeline that semantic search has not seen yet."""

from __future__ import annotations

import os

import typer

from lifelog.cli.common import JsonOpt, Runtime, err, print_json, progress_bar
from lifelog.errors import EngineError


def index(
    limit: int | None = typer.Option(None, "--limit", min=1, help="Embed at most this many chunks."),
    json_out: bool = JsonOpt,
) -> None:
    """Embed the timeline for semantic search (`context --query`) now.

    Each minute of a window (message by message, paragraph by paragraph), and of an audio
    source, is embedded once it is 2 minutes old. A running recorder does this in the
    background; this catches up at once, after `lifelog process`, an import or an upgrade.

    Example: lifelog index
    """
    from lifelog.api.client import find_owner
    from lifelog.tokenize_media.embed import DEFAULT, embedding_unavailable

    reason = embedding_unavailable(DEFAULT)
    if reason:
        raise EngineError(reason)
    rt = Runtime.load()
    owner = find_owner(rt.paths)
    if owner is not None:
        try:
            waiting = owner.status().get("embedding_backlog", 0)
        finally:
            owner.close()
        _report({"embedded": 0, "waiting": waiting, "model": DEFAULT, "by_recorder": True}, json_out)
        return
    _report(_index_here(rt, DEFAULT, limit), json_out)


def _index_here(rt: Runtime, model: str, limit: int | None) -> dict:
    from lifelog.store.embeddings import embed_store
    from lifelog.tokenize_media.embed import get_embedder

    store = rt.store()
    with store.read() as reader:
        total = reader.embedding_backlog(model)
    embedder = get_embedder(model)
    workers = os.cpu_count() or 1  # catching up with no recorder running: every core
    if hasattr(embedder, "workers"):
        embedder.workers = workers
    wanted = min(total, limit) if limit else total
    with progress_bar("Embedding chunks") as bar:
        task = bar.add_task("embed", total=wanted)
        done = embed_store(
            store, embedder, max_chunks=limit or 2**62, batch=4 * workers, progress=lambda n: bar.advance(task, n)
        )
    with store.read() as reader:
        waiting = reader.embedding_backlog(model)
    return {"embedded": done, "waiting": waiting, "model": model, "by_recorder": False}


def _report(data: dict, json_out: bool) -> None:
    if json_out:
        print_json(data)
    elif data["by_recorder"]:
        err.print(f"The running recorder embeds chunks in the background; {data['waiting']:,} waiting.")
    else:
        err.print(f"Embedded {data['embedded']:,} chunks ({data['model']}); {data['waiting']:,} still waiting.")


def register(app: typer.Typer) -> None:
    app.command()(index)
