"""A reader for CTranslate2's ``model.bin`` weight file.

ctranslate2 offers no public API to read a converted model's variables back, and what its
Python package does offer changes between versions. The file format itself is small and
stable (``ctranslate2/specs/model_spec.py::_serialize`` writes it), so reading it directly is
the sound way to reuse the bundled Whisper weights in openai-whisper.

Layout, little-endian: u32 binary version, string spec name, u32 spec revision, u32 variable
count, then per variable: string name, u8 rank, u32 dims, u8 dtype id, u32 byte count, raw
bytes; finally u32 alias count and (alias, target) string pairs. A string is a u16 length
that counts a trailing NUL, then the bytes.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np

from lifelog.errors import Ct2FormatError

log = logging.getLogger(__name__)

# Order matches CTranslate2's DataType enum (include/ctranslate2/types.h).
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
MIN_VERSION = 5  # spec name and revision are present from this version on


class _Cursor:
    """Sequential reads from a bytes buffer, raising Ct2FormatError past its end."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.data):
            raise Ct2FormatError(f"unexpected end of file at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        size = self.unpack("H")
        return bytes(self.take(size)).rstrip(b"\0").decode("utf-8")


def read_model_bin(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name and every variable (aliases resolved) of a CTranslate2 ``model.bin``."""
    cursor = _Cursor(Path(path).read_bytes())
    version = cursor.unpack("I")
    if version < MIN_VERSION:
        raise Ct2FormatError(f"binary version {version} is older than {MIN_VERSION}; reconvert the model")
    spec = cursor.string()
    cursor.unpack("I")  # spec revision
    variables = {}
    for _ in range(cursor.unpack("I")):
        name, value = _read_variable(cursor)
        variables[name] = value
    for _ in range(cursor.unpack("I")):
        alias, target = cursor.string(), cursor.string()
        variables[alias] = variables[target]
    log.debug("read %d variables of %s from %s", len(variables), spec, path)
    return spec, variables


def _read_variable(cursor: _Cursor) -> tuple[str, np.ndarray]:
    name = cursor.string()
    shape = tuple(cursor.unpack("I") for _ in range(cursor.unpack("B")))
    type_id = cursor.unpack("B")
    if type_id >= len(DTYPES):
        raise Ct2FormatError(f"variable {name} has unknown dtype id {type_id}")
    raw = cursor.take(cursor.unpack("I"))
    return name, _to_array(raw, DTYPES[type_id], shape, name)


def _to_array(raw: memoryview, dtype: str, shape: tuple[int, ...], name: str) -> np.ndarray:
    """Copy the raw bytes into an array; bfloat16 widens to float32 (numpy has no bfloat16)."""
    if dtype == "bfloat16":
        halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        array = halves.view(np.float32)
    else:
        array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).copy()
    if array.size != int(np.prod(shape, dtype=np.int64)):
        raise Ct2FormatError(f"variable {name}: {array.size} values for shape {shape}")
    return array.reshape(shape)


def declared_size(path: Path) -> int:
    """How many bytes ``model.bin`` says it holds, read from its variable table alone (the
    weights are skipped, not read): a file whose parts were joined short or too long differs."""
    import os

    with open(path, "rb") as fh:

        def unpack(fmt: str) -> int:
            raw = fh.read(struct.calcsize("<" + fmt))
            if len(raw) != struct.calcsize("<" + fmt):
                raise Ct2FormatError(f"unexpected end of file at byte {fh.tell()}")
            return struct.unpack("<" + fmt, raw)[0]

        def skip_string() -> None:
            fh.seek(unpack("H"), os.SEEK_CUR)

        if unpack("I") < MIN_VERSION:
            raise Ct2FormatError("binary version older than 5")
        skip_string()
        unpack("I")  # spec revision
        for _ in range(unpack("I")):
            skip_string()
            fh.seek(4 * unpack("B"), os.SEEK_CUR)  # dims
            unpack("B")  # dtype
            fh.seek(unpack("I"), os.SEEK_CUR)
        for _ in range(2 * unpack("I")):  # alias, target
            skip_string()
        return fh.tell()
