"""Label templates from settings, and a batch's labels rendered from the database to PDF, ZPL or PNG files that
are written whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from ..config import Settings
from ..labels import LabelError, LabelTemplate, builtin_templates, load_template, render_pdf, render_png, render_zpl
from ..trace.models import Batch
from .policy import OUTPUTS, png_filename
from .queries import label_data_for_batch

TEMPLATE_SUFFIXES = (".json", ".toml")


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


def write_batch_labels(session: Session, batch: Batch, template: LabelTemplate, kind: str, path: Path, *,
                       dpi: int | None = None, start: int = 0, stop: int | None = None,
                       progress: Callable[[int], None] | None = None, url_base: str | None = None) -> int:
    """Write a PDF or ZPL file, or for png a folder of `<serial>.png`; returns how many labels.

    A temporary file or folder is renamed into place only when every label rendered, so a bad label leaves
    nothing behind. `progress` gets the running count of labels done.
    """
    if kind not in OUTPUTS:
        raise LabelError("format", f"must be one of {', '.join(OUTPUTS)}, got {kind!r}")
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
