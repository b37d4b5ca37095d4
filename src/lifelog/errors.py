r"""lifelog's exception tree.

Core code raises these; the CLI maps them in one place (``cli/app.py``) to a one-line
message and an exit code. Messages say what happened, where, and what to do next.

    LifelogError                 base; exit code 1
    ├── UsageError               bad option value, time spec, budget; exit code 2
    │   ├── UploadTooLarge       an import over ``import_max`` (the owner answers 413)
    │   ├── BodyTooLarge         a request body over its call's limit (413)
    │   ├── BodyTooSlow          a request body that did not arrive in time (408)
    │   └── ProtocolMismatch     a client asked for a call version the owner does not speak (409)
    ├── ConfigError              bad config file or key; exit code 2
    ├── CaptureUnavailable       no display / no permission to capture; exit code 2
    ├── EngineError              an engine failed or an unknown engine id was asked for
    │   └── UnknownEngine        lists the valid ids; exit code 2
    ├── DataFolderError          a lifelog folder cannot be created or used (also an OSError)
    ├── StoreError               the database could not be opened or written
    │   └── StoreBusy            another process held the database too long
    │       └── StoreFull        the disk is full: the write is refused whole, kept and tried again later
    ├── SpoolBusy                another process is draining this spool
    ├── FilesUnavailable         a spool file or frame image unreadable for a passing reason: it stays
    ├── OwnerBusy                the owner's window queue is full or the wait too long (503)
    ├── ServiceError             the background service could not be installed, started or stopped
    ├── OwnerRunning             another process already owns this timeline
    ├── OwnerError               the owner answered with an error, or stopped answering
    ├── NotRunning               a call only an owner answers (pause, resume, stop) and none runs (409)
    ├── PassphraseError          an encrypted timeline without its passphrase, or a wrong one
    ├── BudgetError              the smallest possible window does not fit the budget; exit code 2
    └── EndpointError            a model endpoint (`lifelog ask`) failed or answered an error
        ├── EndpointUnreachable  no connection, or it stopped answering
        ├── EndpointAuthError    it refused the API key (HTTP 401/403)
        └── ContextTooLong       it refused the request as too long for the model's context

Two more are ``ValueError``\ s that never reach a user as such: ``BadLine`` (one line of a JSONL
file; the reader turns it into a UsageError naming the file and line) and ``Ct2FormatError``
(a CTranslate2 ``model.bin`` that cannot be read; the weights check reports it). ``Stale`` is
internal to the owner's live rewrite of the database file (``store/live_copy.py``).
"""

from __future__ import annotations


class LifelogError(Exception):
    exit_code = 1


class UsageError(LifelogError):
    exit_code = 2


class UploadTooLarge(UsageError):
    """A file over ``import_max``."""

    http_status = 413


class BodyTooLarge(UsageError):
    http_status = 413


class BodyTooSlow(UsageError):
    http_status = 408


class ProtocolMismatch(UsageError):
    http_status = 409


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


class SpoolBusy(LifelogError):
    """Another process is draining this spool."""


class FilesUnavailable(LifelogError):
    """A spool file could not be read, or a frame image written, for a reason that passes
    (``spool.transient``: out of file descriptors, EIO, ...): the file stays in the spool."""


class NothingStored(LifelogError):
    """Nothing in the timeline answers what was asked (a screen before the first one stored)."""

    http_status = 404


class OwnerBusy(LifelogError):
    """The owner is building as many windows as its memory allows and the queue is full, or
    this request waited its longest; nothing was done for it."""

    http_status = 503


class ServiceError(LifelogError):
    """The background service (systemd user unit or detached daemon) could not be managed."""


class OwnerRunning(LifelogError):
    """Another process already owns this timeline."""


class OwnerError(LifelogError):
    """The owner answered with an error, or stopped answering."""

    hung = False  # it accepted the connection but did not answer in time


class NotRunning(LifelogError):
    """A call only an owner can answer (pause, resume, stop) and none runs."""

    http_status = 409  # the owner's API answers it as a conflict with its state, not as its own failure


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


class BadLine(ValueError):
    """What is wrong with one line of a JSONL file (the reader adds the file and line number)."""


class Ct2FormatError(ValueError):
    """``model.bin`` is truncated, of an unknown version or otherwise unreadable."""


class Stale(Exception):
    """A live rewrite's copy cannot be caught up under a short lock (``store/live_copy.py``): what
    was written during the copy changed more than new rows. Never reaches a user: the rewrite
    makes another copy, and the last try holds writes for the whole copy."""
