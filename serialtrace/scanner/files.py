"""Decode image files for the `serialtrace scan FILE... --json` command."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from serialtrace.scanner.decode import MAX_IMAGE_BYTES, DecodedCode
from serialtrace.scanner.errors import ImageError, ImageTooLarge
from serialtrace.scanner.worker import DecoderFailure, DecoderPool, default_pool


def code_to_dict(code: DecodedCode) -> dict[str, Any]:
    """The JSON shape of one decoded code in scan output."""
    return {
        "text": code.text,
        "format": code.format,
        "symbology_id": code.symbology_id,
        "confirmed": code.confirmed,
    }


def scan_files(
    paths: Iterable[str | os.PathLike[str]], *, retries: bool = True, pool: DecoderPool | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `{"file", "codes", "error"}` per path; an unreadable file gets an error and the scan goes on.

    Each file is decoded in a worker process with a deadline (see worker.DecoderPool), so one
    hostile file costs seconds, not hours, and the next file still gets its turn.
    """
    pool = pool or default_pool()
    for path in paths:
        name = os.fspath(path)
        try:
            data = _read_limited(name)
            codes = pool.decode_image(data, retries=retries)
        except ImageError as exc:
            yield {"file": name, "codes": [], "error": exc.message}
            continue
        except DecoderFailure as exc:
            # A decoder bug must not end the run: the file is reported with the error's last line.
            yield {"file": name, "codes": [], "error": str(exc).strip().splitlines()[-1]}
            continue
        except OSError as exc:
            yield {"file": name, "codes": [], "error": f"cannot read file: {exc.strerror or exc}"}
            continue
        yield {"file": name, "codes": [code_to_dict(c) for c in codes], "error": None}


def _read_limited(path: str) -> bytes:
    # Read one byte past the limit so a huge file is refused without loading all of it.
    with open(path, "rb") as handle:
        data = handle.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"image too large: more than {MAX_IMAGE_BYTES} bytes")
    return data
