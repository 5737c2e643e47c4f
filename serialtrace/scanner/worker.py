"""Decode uploads in worker processes with a deadline: a hostile image costs a killed process, not a server thread.

The header checks refuse what is costly by its shape (scan count, size), but the readers' cost
also depends on what the pixels show: zxing-cpp takes 8 s per pass on an 8 MP picture tiled
with finder-like squares, and native code cannot be interrupted from Python. A worker that
overruns its deadline is killed and replaced, and a worker that crashes in a decoder takes
only itself down. Workers stay running between decodes, so a decode pays only the pipe
(0.1-0.25 ms for a label photo), not a process start.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
import weakref
from typing import IO, cast

from serialtrace.i18n import _l
from serialtrace.scanner.errors import ImageError

# Longest a decode may hold a worker (and so the server thread waiting for it). The largest
# photo the limits admit decodes in under 1 s on the benchmark machine; this leaves room for
# a loaded one.
DECODE_TIMEOUT = 4.0
# Heap (RLIMIT_DATA) a worker may use: about twice what the largest admitted progressive
# colour JPEG needs (libjpeg keeps every DCT coefficient of a progressive file: 40 MP x 3
# components x 2 bytes), so a decode that wants more fails in the worker, not the server.
WORKER_MEMORY = 1536 * 1024 * 1024
# How long a new worker may take to import the decoders before it is considered broken.
_START_TIMEOUT = 60.0

_IMAGE, _FRAME = 1, 2
_REQUEST = struct.Struct(">BBQ")  # operation, retries, length of the image bytes that follow
_LENGTH = struct.Struct(">Q")


class DecodeTimeout(ImageError):
    """The decode ran past its deadline and the worker doing it was stopped."""


class DecoderBusy(ImageError):
    """Every worker stayed busy until the deadline: the server is overloaded, not the image bad."""

    status_code = 503
    code = "decoder_busy"


class DecoderFailure(RuntimeError):
    """The decoder raised something unforeseen (a bug, not a bad image); carries the worker's traceback."""


class DecoderPool:
    """Up to `size` worker processes, started on demand and reused; each decode has a deadline."""

    def __init__(self, size: int | None = None, *, timeout: float = DECODE_TIMEOUT,
                 memory: int | None = WORKER_MEMORY) -> None:
        self.size = size or min(8, max(2, os.cpu_count() or 2))
        self.timeout = timeout
        self.memory = memory
        self._idle: list[_Worker] = []
        self._live = 0
        self._closed = False
        self._cond = threading.Condition()
        self.pid = os.getpid()
        _POOLS.add(self)

    def decode_image(self, data: bytes, *, retries: bool = True,
                     timeout: float | None = None) -> list:
        """decode_image in a worker; ImageError (DecodeTimeout, DecoderBusy) when it cannot answer in time."""
        return self._run(_IMAGE, retries, data, timeout)

    def decode_frame(self, data: bytes, *, timeout: float | None = None) -> list:
        """decode_frame(load_gray(data)) in a worker: an uploaded camera frame."""
        return self._run(_FRAME, False, data, timeout)

    def close(self) -> None:
        """Stop the idle workers; busy ones stop when their decode ends."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    def _run(self, op: int, retries: bool, data: bytes, timeout: float | None) -> list:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ImageError(f"expected image bytes, got {type(data).__name__}")
        limit = self.timeout if timeout is None else timeout
        worker = self._acquire(time.monotonic() + limit, limit)
        healthy = False
        try:
            # The decode gets the whole limit from when a worker is ready: neither waiting for a
            # busy one nor starting a new one counts against the image.
            answer = worker.ask(op, retries, bytes(data), time.monotonic() + limit)
            healthy = True
        except TimeoutError:
            raise DecodeTimeout(
                f"decoding did not finish within {limit:g} s and was stopped; "
                "send a photo of the label alone, closer and sharper"
            ) from None
        except EOFError:
            status = worker.stop()
            raise ImageError(_l("the decoder stopped on this image (exit status %(status)s); it is not usable",
                                  status=status)) from None
        finally:
            self._release(worker, healthy)
        kind, payload = answer
        if kind == "ok":
            return cast(list, payload)  # the worker answers "ok" with the decoded codes
        if kind == "error":
            # The worker sends the ImageError itself, so its class (ImageTooLarge, for one) survives the pipe.
            raise payload if isinstance(payload, ImageError) else ImageError(str(payload))
        raise DecoderFailure(f"image decoder failed:\n{payload}")

    def _acquire(self, deadline: float, limit: float) -> _Worker:
        with self._cond:
            while not self._idle and self._live >= self.size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise DecoderBusy(f"every image decoder stayed busy for {limit:g} s; try again shortly")
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self._live += 1
        try:
            return _Worker(self.memory)
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            worker.stop()
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._live -= 1
            self._cond.notify()
        if healthy and self._closed:
            worker.stop()


class _Worker:
    """One decoder process and its two pipes."""

    def __init__(self, memory: int | None) -> None:
        # The package's own folder first, so the worker imports this same code however it was installed.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, MALLOC_ARENA_MAX="2", PYTHONPATH=path)
        if memory:
            env["SERIALTRACE_DECODER_MEMORY"] = str(memory)
        self.process = subprocess.Popen(
            # -c rather than -m: the package imports this module, and runpy warns when running it as __main__.
            [sys.executable, "-c", "from serialtrace.scanner.worker import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
        )
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None  # both are pipes, by the arguments above
        self.stdin: IO[bytes] = stdin
        self.stdout: IO[bytes] = stdout
        try:
            ready = _read_exact(self.stdout, 1, time.monotonic() + _START_TIMEOUT)
        except (TimeoutError, EOFError):
            status = self.stop()
            raise RuntimeError(f"image decoder worker did not start (exit status {status})") from None
        if ready != b"R":
            self.stop()
            raise RuntimeError("image decoder worker started with an unexpected greeting")

    def ask(self, op: int, retries: bool, data: bytes, deadline: float) -> tuple[str, object]:
        """Send one image; wait for the answer until `deadline` (TimeoutError), EOFError if it died."""
        try:
            self.stdin.write(_REQUEST.pack(op, int(retries), len(data)))
            self.stdin.write(data)
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            raise EOFError from None
        (length,) = _LENGTH.unpack(_read_exact(self.stdout, _LENGTH.size, deadline))
        return pickle.loads(_read_exact(self.stdout, length, deadline))

    def stop(self) -> int | None:
        """Kill the process (a no-op when it already ended) and return its exit status."""
        if self.process.poll() is None:
            self.process.kill()
        status = self.process.wait()
        for pipe in (self.stdin, self.stdout):
            try:
                pipe.close()
            except OSError:
                pass  # the worker's end is already gone; nothing is left to flush
        return status


def _read_exact(stream: IO[bytes], size: int, deadline: float) -> bytes:
    fd = stream.fileno()
    chunks, got = [], 0
    while got < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


_POOLS: weakref.WeakSet[DecoderPool] = weakref.WeakSet()
_default: DecoderPool | None = None
_default_lock = threading.Lock()


def default_pool() -> DecoderPool:
    """The process-wide pool the web app and the CLI decode uploads with."""
    global _default
    with _default_lock:
        # A forked child must not share its parent's workers (and their pipes).
        if _default is None or _default.pid != os.getpid():
            _default = DecoderPool()
        return _default


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        if pool.pid == os.getpid():
            pool.close()


def serve() -> None:
    """Worker side: answer requests on stdin/stdout until the server closes the pipe."""
    # The protocol owns the real stdout; anything a native library prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    source = sys.stdin.buffer
    import resource

    import cv2

    from serialtrace.scanner.decode import decode_frame, decode_image, load_gray

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    # One thread per worker: the pool runs workers side by side, and OpenCV's thread pool
    # would add threads (and malloc arenas) per worker for no gain.
    cv2.setNumThreads(1)
    memory = int(os.environ.get("SERIALTRACE_DECODER_MEMORY") or 0)
    if memory:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    out.write(b"R")
    out.flush()
    while True:
        head = source.read(_REQUEST.size)
        if len(head) < _REQUEST.size:
            return
        op, retries, length = _REQUEST.unpack(head)
        data = source.read(length)
        try:
            if op == _IMAGE:
                answer: tuple[str, object] = ("ok", decode_image(data, retries=bool(retries)))
            else:
                answer = ("ok", decode_frame(load_gray(data)))
        except ImageError as exc:
            answer = ("error", exc)
        except (MemoryError, cv2.error) as exc:
            if isinstance(exc, cv2.error) and "Insufficient memory" not in str(exc):
                answer = ("crash", _describe(exc))
            else:
                answer = ("error", ImageError(_l("image needs more memory to decode than a worker may use")))
        except Exception as exc:  # noqa: BLE001 - sent to the server, which logs it as a 500
            answer = ("crash", _describe(exc))
        body = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_LENGTH.pack(len(body)) + body)
        out.flush()


def _describe(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))

