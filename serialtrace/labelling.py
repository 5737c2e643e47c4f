"""Labels for batches, shared by the CLI and the web: templates from settings, label data streamed from the
database, files written whole or not at all, and print jobs wired to the raw-TCP printer transport."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from urllib.parse import quote
from pathlib import Path
from typing import IO, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import transaction
from .labels import LabelData, LabelError, LabelTemplate, builtin_templates, load_template, render_pdf, render_png
from .labels import render_zpl, send_zpl, zpl_bytes
from .trace.models import Batch, Product, Unit
from .labels.templates import DPIS
from .trace.printing import (PrintJob, count_units, create_print_job, ensure_printer_allowed, ensure_range,
                             get_print_job, parse_printer, run_print_job)
from .trace.service import Author

KINDS = ("pdf", "zpl", "png")
TEMPLATE_SUFFIXES = (".json", ".toml")
# Rows fetched per round trip while streaming a batch's units; memory stays flat in the batch size.
YIELD_PER = 1000
_UNSAFE_FILENAME = re.compile(r"[^0-9A-Za-z._-]")


def template_files(settings: Settings) -> dict[str, Path]:
    """User template files in the configured folder, by file stem."""
    folder = Path(settings.label_templates_dir) if settings.label_templates_dir else None
    if folder is None or not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in TEMPLATE_SUFFIXES and p.is_file()}


def list_templates(settings: Settings) -> list[tuple[str, LabelTemplate | None, str | None]]:
    """Every template on offer as (name, template, error); a broken user file is listed with its error."""
    out: list[tuple[str, LabelTemplate | None, str | None]] = [(n, t, None) for n, t in builtin_templates().items()]
    for stem, path in template_files(settings).items():
        try:
            out.append((stem, load_template(path), None))
        except LabelError as exc:
            out.append((stem, None, str(exc)))
    return out


def get_template(settings: Settings, ref: str, *, allow_path: bool = False) -> LabelTemplate:
    """A built-in or folder template by name, or (CLI only) a template file by path; LabelError otherwise."""
    builtins = builtin_templates()
    if ref in builtins:
        return builtins[ref]
    files = template_files(settings)
    if ref in files:
        return load_template(files[ref])
    if allow_path and Path(ref).suffix.lower() in TEMPLATE_SUFFIXES:
        return load_template(ref)
    names = ", ".join([*builtins, *files])
    raise LabelError("template", f"unknown template {ref!r}; one of {names}")


def label_maker(session: Session, batch: Batch, *, url_base: str | None = None) -> Callable[[str], LabelData]:
    """A function turning a serial of `batch` into its label data.

    Products without a GTIN get a QR of `<url_base>/units/<serial>` beside the Code 128 of the serial.
    """
    product = session.get(Product, batch.product_id)
    base = (url_base or "").rstrip("/")

    def make(serial: str) -> LabelData:
        url = f"{base}/units/{quote(serial, safe='')}" if base and not product.gtin else None
        return LabelData(gtin=product.gtin, batch=batch.number, serial=serial, produced_on=batch.produced_on,
                         product_name=product.name, sku=product.sku, url=url)

    return make


def label_data_for_batch(session: Session, batch: Batch, *, start: int = 0, stop: int | None = None,
                         url_base: str | None = None) -> Iterator[LabelData]:
    """Label data of the batch's units start..stop-1 (ordered by unit id), streamed, never all loaded."""
    make = label_maker(session, batch, url_base=url_base)
    stmt = select(Unit.serial).where(Unit.batch_id == batch.id).order_by(Unit.id).offset(start)
    if stop is not None:
        stmt = stmt.limit(max(0, stop - start))
    for serial in session.scalars(stmt, execution_options={"yield_per": YIELD_PER}):
        yield make(serial)


def render_batch(session: Session, batch: Batch, template: LabelTemplate, kind: str, out: IO[bytes], *,
                 dpi: int | None = None, start: int = 0, stop: int | None = None,
                 progress: Callable[[int], None] | None = None, url_base: str | None = None) -> int:
    """Write the batch's labels as one PDF or ZPL stream; returns how many. Nothing reaches `out` on a LabelError.

    `progress` gets the running count of labels done.
    """
    labels = label_data_for_batch(session, batch, start=start, stop=stop, url_base=url_base)
    if kind == "pdf":
        return render_pdf(labels, template, out, progress=progress)
    if kind == "zpl":
        return render_zpl(labels, template, out, dpi=dpi or template.dpi, progress=progress)
    raise LabelError("format", f"a single file is pdf or zpl, not {kind!r}")


def png_filename(serial: str) -> str:
    """A file name for a serial's PNG; characters a file system could read as a path become `_`."""
    name = _UNSAFE_FILENAME.sub("_", serial).lstrip(".") or "_"
    return f"{name}.png"


def write_batch_labels(session: Session, batch: Batch, template: LabelTemplate, kind: str, path: Path, *,
                       dpi: int | None = None, start: int = 0, stop: int | None = None,
                       progress: Callable[[int], None] | None = None, url_base: str | None = None) -> int:
    """Write a PDF or ZPL file, or for png a folder of `<serial>.png`; returns how many labels.

    A temporary file or folder is renamed into place only when every label rendered, so a bad label leaves
    nothing behind. `progress` gets the running count of labels done.
    """
    if kind not in KINDS:
        raise LabelError("format", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if kind != "png":
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                count = render_batch(session, batch, template, kind, fh, dpi=dpi, start=start, stop=stop,
                                     progress=progress, url_base=url_base)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return count
    if path.exists() and not path.is_dir():
        raise LabelError("out", f"{path} exists and is not a folder")
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=parent))
    try:
        count = 0
        for index, label in enumerate(label_data_for_batch(session, batch, start=start, stop=stop,
                                                           url_base=url_base)):
            try:
                data = render_png(label, template)
            except LabelError as exc:
                raise LabelError(exc.field, exc.rule, index=index) from exc
            (tmpdir / png_filename(label.serial)).write_bytes(data)
            count += 1
            if progress is not None and count % 50 == 0:
                progress(count)
        if count == 0:
            raise LabelError("labels", "the job has no labels")
        if progress is not None:
            progress(count)
        if not path.exists():
            os.replace(tmpdir, path)
        else:
            for item in tmpdir.iterdir():
                os.replace(item, path / item.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return count


def preview_png(session: Session, batch: Batch, template: LabelTemplate, *, url_base: str | None = None) -> bytes:
    """The first label of the batch as PNG."""
    for label in label_data_for_batch(session, batch, stop=1, url_base=url_base):
        return render_png(label, template)
    raise LabelError("batch", f"batch {batch.number} has no units")


def queue_print(session: Session, settings: Settings, *, batch: Batch, template: str, printer: str,
                first: int | None = None, last: int | None = None, dpi: int | None = None,
                author: Author | None = None, allow_path: bool = False) -> PrintJob:
    """Check the template, resolution and printer, then queue a print job. Flushes; the caller commits."""
    # Everything the runner will need is checked now: a job committed with a bad value could never succeed.
    resolved = get_template(settings, template, allow_path=allow_path)
    dpi = resolved.dpi if dpi is None else dpi
    if isinstance(dpi, bool) or dpi not in DPIS:
        raise LabelError("dpi", f"must be one of {', '.join(map(str, DPIS))}, got {dpi!r}")
    printer = ensure_printer_allowed(printer, settings.printers)
    return create_print_job(session, batch=batch, template=template, output="zpl", printer=printer, first=first,
                            last=last, dpi=dpi, author=author)


def ensure_label_range(session: Session, batch: Batch, *, first: int | None, last: int | None) -> tuple[int, int]:
    """The unit index range first..last of the batch, checked against its unit count before rendering."""
    return ensure_range(count_units(session, batch_id=batch.id), first, last)


def print_batch(session_factory: sessionmaker, settings: Settings, job_id: int, *, chunk: int = 100,
                progress: Callable[[int], None] | None = None, timeout: float = 5.0, retries: int = 2,
                allow_path: bool = False) -> PrintJob:
    """Run a queued print job: ZPL chunks rendered from the batch and sent to the job's printer over raw TCP."""
    with transaction(session_factory) as s:
        job = get_print_job(s, job_id)
        batch = s.get(Batch, job.batch_id)
        template = get_template(settings, job.template, allow_path=allow_path)
        make = label_maker(s, batch, url_base=settings.public_url)
        dpi = job.dpi
        # Checked again at run time: a resumed job must not reach a printer the allow-list dropped since.
        host, port = parse_printer(ensure_printer_allowed(job.printer or "", settings.printers))

    def render(rows) -> bytes:
        return zpl_bytes((make(row.serial) for row in rows), template, dpi=dpi)

    def send(data: bytes) -> None:
        send_zpl(host, port, data, timeout=timeout, retries=retries)

    return run_print_job(session_factory, job_id, render=render, send=send, chunk=chunk, progress=progress)
