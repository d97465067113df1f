"""Read a few metadata values from the head of a GGUF file, without parsing the rest of it.

GGUF (llama.cpp's format): magic "GGUF", uint32 version, uint64 tensor count, uint64 key-value count, then the
key-value pairs: key (uint64 length + UTF-8), uint32 value type, value. Arrays are uint32 element type, uint64
count, elements; strings are uint64 length + bytes. Everything is little-endian. The model's own keys
(``llama.rope.freq_base`` …) come before the tokenizer's long arrays, so stopping once the wanted keys are found
reads a few hundred bytes instead of the 49,152 tokens gguf's full reader parses (~10 s).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAGIC = b"GGUF"
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("The GGUF file ends in the middle of its metadata.")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO) -> str:
    return f.read(_read(f, "<Q")).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int):
    if kind in SCALARS:
        return _read(f, SCALARS[kind])
    if kind == STRING:
        return _string(f)
    if kind == ARRAY:
        item, count = _read(f, "<I"), _read(f, "<Q")
        if item in SCALARS:  # skip fixed-size elements in one seek
            f.seek(struct.calcsize(SCALARS[item]) * count, 1)
        else:
            for _ in range(count):
                _value(f, item)
        return None  # arrays are skipped: only scalars and strings are wanted here
    raise ValueError(f"Unknown GGUF value type {kind}.")


def read_metadata(path: str | Path, keys: set[str]) -> dict[str, object]:
    """The values of ``keys`` (scalars or strings) found in the file's metadata; missing keys are absent."""
    found: dict[str, object] = {}
    with open(path, "rb") as f:
        if f.read(4) != MAGIC:
            raise ValueError(f"{Path(path).name} is not a GGUF file.")
        version = _read(f, "<I")
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old to read.")
        _read(f, "<Q")  # tensor count
        n_kv = _read(f, "<Q")
        for _ in range(n_kv):
            key = _string(f)
            value = _value(f, _read(f, "<I"))
            if key in keys:
                found[key] = value
                if len(found) == len(keys):
                    break
    return found
