"""Write a job to a spool first so that a bad label mid-job leaves the destination untouched."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

SPOOL_MEMORY = 4 * 1024 * 1024  # beyond this the spool moves to a temporary file


@contextmanager
def spooled(out: IO, *, text_encoding: str | None = None) -> Iterator[IO[bytes]]:
    """Yield a binary spool; copy it to `out` (binary, or text decoded) only when the block succeeds."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
        yield spool
        spool.seek(0)
        if isinstance(out, io.TextIOBase):
            reader = io.TextIOWrapper(spool, encoding=text_encoding or "utf-8", newline="")
            shutil.copyfileobj(reader, out)
            reader.detach()
        else:
            shutil.copyfileobj(spool, out)
