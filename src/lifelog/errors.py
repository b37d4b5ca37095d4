"""lifelog's exception tree.

Core code raises these; the CLI maps them in one place (``cli/app.py``) to a one-line
message and an exit code. Messages say what happened, where, and what to do next.

    LifelogError                 base; exit code 1
    ├── UsageError               bad option value, time spec, budget; exit code 2
    ├── ConfigError              bad config file or key; exit code 2
    ├── CaptureUnavailable       no display / no permission to capture; exit code 2
    ├── EngineError              an engine failed or an unknown engine id was asked for
    │   └── UnknownEngine        lists the valid ids; exit code 2
    ├── DataFolderError          a lifelog folder cannot be created or used (also an OSError)
    ├── StoreError               the database could not be opened or written
    │   └── StoreBusy            another process held the database too long
    │       └── StoreFull        the disk is full: the write is refused whole, kept and tried again later
    ├── PassphraseError          an encrypted timeline without its passphrase, or a wrong one
    ├── BudgetError              the smallest possible window does not fit the budget; exit code 2
    └── EndpointError            a model endpoint (`lifelog ask`) failed or answered an error
        ├── EndpointUnreachable  no connection, or it stopped answering
        ├── EndpointAuthError    it refused the API key (HTTP 401/403)
        └── ContextTooLong       it refused the request as too long for the model's context
"""

from __future__ import annotations


class LifelogError(Exception):
    exit_code = 1


class UsageError(LifelogError):
    exit_code = 2


class ConfigError(LifelogError):
    exit_code = 2


class CaptureUnavailable(LifelogError):
    exit_code = 2


class EngineError(LifelogError):
    pass


class UnknownEngine(EngineError):
    exit_code = 2

    def __init__(self, kind: str, name: str, valid: list[str]):
        super().__init__(f"Unknown {kind} engine {name!r}. Valid: {', '.join(sorted(valid))}.")
        self.valid = valid


class DataFolderError(LifelogError, OSError):
    """Also an ``OSError``, so code that already handles a failing disk handles this too."""


class StoreError(LifelogError):
    pass


class StoreBusy(StoreError):
    pass


class StoreFull(StoreBusy):
    """No space left on the data folder's disk. A ``StoreBusy``: whoever waits out a busy store
    (the pipeline keeps its batch and spool files, the recorder retries its rows) waits this out too."""


class PassphraseError(LifelogError):
    """Never carries the passphrase or a key in its message."""


class BudgetError(LifelogError):
    exit_code = 2


class EndpointError(LifelogError):
    pass


class EndpointUnreachable(EndpointError):
    pass


class EndpointAuthError(EndpointError):
    pass


class ContextTooLong(EndpointError):
    pass
