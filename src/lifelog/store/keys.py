"""The timeline's encryption key: made once, wrapped by a passphrase, held only in memory.

An encrypted timeline has a random 256-bit *data key*. It never touches the disk in the
clear: ``lifelog.key`` in the data folder holds it wrapped (AES-GCM) by a key derived from
the user's passphrase with scrypt (salt and cost stored beside it, file 0600, written
atomically). Whoever opens an encrypted timeline (the owner, or a command when no owner
runs) unwraps it once and keeps it in this module's memory for the life of the process;
capture children receive it over their start pipe (:func:`export_unlocked`).

The passphrase comes from ``LIFELOG_PASSPHRASE``, else the OS keyring when the optional
``keyring`` package is installed and has a usable backend, else a terminal prompt; with
none of them an encrypted timeline is one clear error. Two keys are derived from the data
key with HKDF, one for DuckDB's own AES-GCM encryption of the database (and its WAL), one
for sealing frame and audio files (``sealed.py``), so neither use can weaken the other.

Presence of ``lifelog.key`` is what makes a timeline encrypted: it is written before
anything is encrypted and removed only after nothing is (``convert.py``).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from lifelog.errors import PassphraseError
from lifelog.paths import atomic_private_file

KEY_FILE = "lifelog.key"
PASSPHRASE_ENV = "LIFELOG_PASSPHRASE"
KEYRING_SERVICE = "lifelog"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # ~32 MiB and ~0.1 s per unwrap (once per process)
_WRAP_AAD = b"lifelog-key-v1"
NEEDED = "The timeline is encrypted: set LIFELOG_PASSPHRASE or run the daemon (`lifelog daemon start`)."

_lock = threading.Lock()
_unlocked: dict[str, bytes] = {}  # realpath of a data folder -> its data key (this process only)


def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def is_encrypted(data_dir: Path) -> bool:
    return key_path(data_dir).exists()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kek(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def wrap(data_key: bytes, passphrase: str) -> dict:
    """The key file's contents: ``data_key`` sealed by a scrypt key of ``passphrase``."""
    salt, nonce = os.urandom(16), os.urandom(12)
    wrapped = AESGCM(_kek(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, data_key, _WRAP_AAD)
    return {
        "version": 1,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "cipher": "aes-256-gcm",
        "nonce": _b64(nonce),
        "wrapped": _b64(wrapped),
    }


def unwrap(record: dict, passphrase: str, where: Path) -> bytes:
    """The data key in ``record``; :class:`PassphraseError` for a wrong passphrase."""
    try:
        kek = _kek(passphrase, base64.b64decode(record["salt"]), int(record["n"]), int(record["r"]), int(record["p"]))
        return AESGCM(kek).decrypt(base64.b64decode(record["nonce"]), base64.b64decode(record["wrapped"]), _WRAP_AAD)
    except InvalidTag:
        raise PassphraseError(
            f"Wrong passphrase for the encrypted timeline {where.parent}: nothing was "
            f"changed. Check LIFELOG_PASSPHRASE and try again."
        ) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise PassphraseError(
            f"The key file {where} is damaged ({type(exc).__name__}); restore it from a "
            "backup: without it the timeline cannot be read."
        ) from None


def read_record(data_dir: Path) -> dict:
    path = key_path(data_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PassphraseError(
            f"Cannot read the key file {path} ({exc.__class__.__name__}); restore it "
            "from a backup: without it the timeline cannot be read."
        ) from None


def write_record(data_dir: Path, record: dict) -> None:
    with atomic_private_file(key_path(data_dir)) as fh:
        fh.write(json.dumps(record, indent=1).encode("utf-8"))


def get_passphrase(data_dir: Path, *, confirm: bool = False) -> str:
    """From the environment, the OS keyring, or a terminal prompt; else :class:`PassphraseError`."""
    value = os.environ.get(PASSPHRASE_ENV) or _from_keyring(data_dir)
    if value:
        return value
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise PassphraseError(NEEDED)
    import getpass

    value = getpass.getpass("lifelog passphrase: ")
    if confirm and getpass.getpass("again: ") != value:
        raise PassphraseError("The two passphrases differ: nothing was changed. Run the command again.")
    if not value:
        raise PassphraseError("An empty passphrase is not allowed: nothing was changed.")
    return value


def _from_keyring(data_dir: Path) -> str | None:
    """The passphrase the OS keyring holds for this data folder, if ``keyring`` runs here."""
    try:
        import keyring  # optional: never a dependency
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, str(Path(data_dir).resolve()))
    except Exception:  # no usable backend (headless, locked): fall through to the other sources
        return None


def data_key(data_dir: Path) -> bytes | None:
    """The data key of the timeline in ``data_dir`` (unwrapped once per process), or None
    when it is not encrypted."""
    name = os.path.realpath(data_dir)
    with _lock:
        if name in _unlocked:
            return _unlocked[name]
        if not is_encrypted(Path(data_dir)):
            return None
        key = unwrap(read_record(Path(data_dir)), get_passphrase(Path(data_dir)), key_path(data_dir))
        _unlocked[name] = key
        return key


def remember(data_dir: Path, key: bytes | None) -> None:
    """Hold ``key`` for ``data_dir`` in this process (None: forget it)."""
    name = os.path.realpath(data_dir)
    with _lock:
        if key is None:
            _unlocked.pop(name, None)
        else:
            _unlocked[name] = key


def export_unlocked() -> dict[str, bytes]:
    """The keys this process holds, for a child started with ``spawn`` (sent over its pipe)."""
    with _lock:
        return dict(_unlocked)


def import_unlocked(keys: dict[str, bytes] | None) -> None:
    with _lock:
        _unlocked.update(keys or {})


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lifelog " + purpose).derive(key)


def db_secret(key: bytes) -> str:
    """The string given to DuckDB as ENCRYPTION_KEY."""
    return _derive(key, b"duckdb").hex()


def file_key(key: bytes) -> bytes:
    """The AES-256-GCM key that seals frame and audio files."""
    return _derive(key, b"files")


def for_folder(folder: Path) -> bytes | None:
    """The data key of the timeline that ``folder`` belongs to (the data folder itself or one
    to two levels below it: frames/, audio/, spool/, spool/audio/), or None if unencrypted."""
    folder = Path(folder)
    for candidate in (folder, folder.parent, folder.parent.parent):
        name = os.path.realpath(candidate)
        with _lock:
            if name in _unlocked:
                return _unlocked[name]
        if is_encrypted(candidate):
            return data_key(candidate)
    return None
