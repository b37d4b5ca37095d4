"""Frame and audio files sealed with AES-256-GCM when the timeline is encrypted.

A sealed file is ``MAGIC`` (``LLSEAL``), a version byte, a random 96-bit nonce, then the
ciphertext and its 16-byte tag; the header is authenticated too. Anything else is a
plaintext file: reading one still works (a timeline being converted holds both), so a
reader never needs to know which kind it has. Files are small (a frame region or a few
seconds of Opus), so whole-file sealing in memory is simplest.

:class:`Sealer` is the hook the file stores use: it finds the key of the timeline a folder
belongs to (``keys.for_folder``) and seals what is written, opens what is read.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lifelog.errors import PassphraseError
from lifelog.spool import sealing as spool_sealing
from lifelog.store import keys

MAGIC = b"LLSEAL"
VERSION = 1
_NONCE = 12
HEADER_LEN = len(MAGIC) + 1 + _NONCE


def is_sealed(blob: bytes) -> bool:
    return blob[: len(MAGIC)] == MAGIC


def seal(data: bytes, file_key: bytes) -> bytes:
    header = MAGIC + bytes([VERSION]) + os.urandom(_NONCE)
    return header + AESGCM(file_key).encrypt(header[-_NONCE:], data, header)


def unseal(blob: bytes, file_key: bytes | None, where: Path | str = "a file") -> bytes:
    """The plaintext of ``blob``; a plaintext blob comes back as it is."""
    if not is_sealed(blob):
        return blob
    if file_key is None:
        raise PassphraseError(f"{where} is sealed but its timeline has no key file: restore lifelog.key from a backup.")
    if blob[len(MAGIC)] != VERSION:
        raise PassphraseError(f"{where} is sealed with format {blob[len(MAGIC)]}; upgrade lifelog to read it.")
    header = blob[:HEADER_LEN]
    try:
        return AESGCM(file_key).decrypt(header[-_NONCE:], blob[HEADER_LEN:], header)
    except InvalidTag:
        raise PassphraseError(
            f"{where} does not open with this timeline's key (damaged, or from another timeline)."
        ) from None


class Sealer:
    """Seal and open the files kept in ``folder`` (a folder of an encrypted timeline or not)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def file_key(self) -> bytes | None:
        key = keys.for_folder(self.folder)
        return None if key is None else keys.file_key(key)

    @contextlib.contextmanager
    def writer(self, raw: BinaryIO) -> Iterator[BinaryIO]:
        """What to write a file's bytes to: ``raw`` itself, or a buffer sealed into ``raw`` at the end."""
        fkey = self.file_key()
        if fkey is None:
            yield raw
            return
        buf = io.BytesIO()
        yield buf
        raw.write(seal(buf.getvalue(), fkey))

    def seal(self, data: bytes) -> bytes:
        """``data`` sealed when the timeline is encrypted, else ``data`` itself."""
        fkey = self.file_key()
        return data if fkey is None else seal(data, fkey)

    def read_bytes(self, path: Path) -> bytes:
        blob = Path(path).read_bytes()
        return unseal(blob, self.file_key() if is_sealed(blob) else None, path)

    def open(self, path: Path) -> BinaryIO:
        """A readable binary file of ``path``'s plaintext (for ``Image.open``, ``wave.open``)."""
        return io.BytesIO(self.read_bytes(path))


def convert_file(path: Path, file_key: bytes, *, to_sealed: bool) -> bool:
    """Rewrite ``path`` sealed (or back in the clear) atomically: a rename replaces the old
    bytes, never half-written; False when it already was in that form."""
    from lifelog.paths import atomic_private_file

    blob = path.read_bytes()
    if is_sealed(blob) == to_sealed:
        return False
    data = seal(blob, file_key) if to_sealed else unseal(blob, file_key, path)
    with atomic_private_file(path) as fh:
        fh.write(data)
    return True


spool_sealing.install(Sealer)  # spooled frames and audio chunks too (the spool cannot import the store)
