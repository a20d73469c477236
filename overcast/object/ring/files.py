"""Ring and builder files: a gzip stream of a JSON header and then raw arrays.

The arrays (a device id per partition, per replica) are stored as bytes, not
JSON lists, so a ring of 2**20 partitions stays a few megabytes and loads in
milliseconds. Files are replaced atomically (write beside, fsync, rename), so a
storage node that reloads a ring never reads half of one.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Any

MAGIC = b"OCRING1\n"


class RingFileError(ValueError):
    """A file that is not a ring (or builder) file of this format."""


def write(path: Path, header: dict[str, Any], arrays: list[array[int]]) -> None:
    """Write ``header`` and ``arrays`` to ``path`` atomically."""
    body = dict(header, arrays=[[a.typecode, len(a)] for a in arrays])
    encoded = json.dumps(body, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
                out.write(MAGIC)
                out.write(struct.pack("!I", len(encoded)))
                out.write(encoded)
                for one in arrays:
                    out.write(_little_endian(one).tobytes())
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path) -> tuple[dict[str, Any], list[array[int]]]:
    """The header and arrays of ``path``.

    :raises RingFileError: when it is not such a file.
    """
    try:
        with gzip.open(path, "rb") as stream:
            if stream.read(len(MAGIC)) != MAGIC:
                raise RingFileError(f"{path} is not a ring file")
            (size,) = struct.unpack("!I", stream.read(4))
            header = json.loads(stream.read(size))
            arrays = []
            for typecode, length in header.pop("arrays"):
                one = array(typecode)
                data = stream.read(length * one.itemsize)
                if len(data) != length * one.itemsize:
                    raise RingFileError(f"{path} is truncated")
                one.frombytes(data)
                arrays.append(_little_endian(one))
    except (OSError, EOFError, struct.error, json.JSONDecodeError) as exc:
        raise RingFileError(f"{path} is not a readable ring file: {exc}") from exc
    return header, arrays


def _little_endian(one: array[int]) -> array[int]:
    """``one`` in little-endian byte order (a copy on big-endian machines)."""
    if sys.byteorder == "big":
        one = array(one.typecode, one)
        one.byteswap()
    return one
