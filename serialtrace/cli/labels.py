"""Label commands: templates, render to files, print to a ZPL printer, resume, the print jobs."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ..runtime import Runtime
from ..trace.policy import MAX_INT
from .common import runtime, writing


def _dpi_option(help_text: str):
    """--dpi limited to the resolutions ZPL printers have, given to the command as an int (or None)."""
    return click.option("--dpi", type=click.Choice(["203", "300", "600"]), help=help_text,
                        callback=lambda _ctx, _param, value: int(value) if value else None)


@click.group()
def labels() -> None:
    """Label files, network printing and print jobs."""


@contextmanager
def _label_errors():
    """A LabelError (bad template or label data) becomes one line `error: <field>: <rule>` and exit code 1."""
    from ..labels import LabelError

    try:
        yield
    except LabelError as exc:
        where = f" (label {exc.index})" if exc.index is not None else ""
        click.echo(f"error: {exc.field}: {exc.rule}{where}", err=True)
        click.get_current_context().exit(1)


@labels.command("templates")
def labels_templates() -> None:
    """List the built-in templates and those in SERIALTRACE_LABEL_TEMPLATES."""
    from ..labelling.render import list_templates

    for name, t, error in list_templates(runtime().settings):
        if t is None:
            click.echo(f"{name}\terror: {error}")
        else:
            sheet = f"sheet {t.sheet.columns}x{t.sheet.rows}" if t.sheet else "roll"
            click.echo(f"{name}\t{t.width_mm:g}x{t.height_mm:g} mm\t{t.dpi} dpi\t{t.symbol}\t{sheet}")


@labels.command("render")
@click.option("--batch", "batch_number", required=True, help="Batch number.")
@click.option("--product", help="SKU when several products share the batch number.")
@click.option("--template", "template_ref", default="roll-50x25", show_default=True,
              help="Template name or a .json/.toml template file.")
@click.option("--format", "kind", type=click.Choice(["pdf", "zpl", "png"]), required=True)
@click.option("--out", "out", type=click.Path(), required=True, help="File (pdf, zpl) or folder (png).")
@_dpi_option("ZPL printer resolution (default: the template's).")
@click.option("--from", "first", type=click.IntRange(0, MAX_INT), help="First unit index (0-based, by unit id).")
@click.option("--to", "last", type=click.IntRange(0, MAX_INT), help="Last unit index, inclusive.")
def labels_render(batch_number, product, template_ref, kind, out, dpi, first, last) -> None:
    """Render a batch's labels to one PDF or ZPL file, or a folder of <serial>.png; nothing is written on error."""
    from ..labelling import queries as labelling_queries
    from ..labelling import service as labelling_service
    from ..labelling.render import get_template, write_batch_labels
    from ..trace import queries

    rt = runtime()
    with writing(out), _label_errors(), rt.transaction() as s:
        template = get_template(rt.settings, template_ref, allow_path=True)
        b = queries.get_batch(s, batch_number, sku=product)
        total = labelling_queries.count_units(s, batch_id=b.id)
        start = first or 0
        stop = total if last is None else min(last + 1, total)
        with click.progressbar(length=max(stop - start, 0), label=f"{kind} labels", file=sys.stderr) as bar:
            count = write_batch_labels(s, b, template, kind, Path(out), dpi=dpi, start=start, stop=stop,
                                       url_base=rt.settings.public_url,
                                       progress=lambda done: bar.update(done - bar.pos))
        labelling_service.record_download(s, batch=b, template=template.name, output=kind, first=start,
                                          last=start + count - 1)
    click.echo(f"{count} labels written to {out}")


@labels.command("print")
@click.option("--batch", "batch_number", required=True, help="Batch number.")
@click.option("--product", help="SKU when several products share the batch number.")
@click.option("--printer", required=True, help="HOST:PORT of the printer (raw TCP, usually port 9100).")
@click.option("--template", "template_ref", default="roll-50x25", show_default=True,
              help="Template name or a .json/.toml template file.")
@_dpi_option("Printer resolution (default: the template's).")
@click.option("--from", "first", type=click.IntRange(0, MAX_INT), help="First unit index (0-based, by unit id).")
@click.option("--to", "last", type=click.IntRange(0, MAX_INT), help="Last unit index, inclusive.")
@click.option("--chunk", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Labels per transmission; progress is saved after each.")
def labels_print(batch_number, product, printer, template_ref, dpi, first, last, chunk) -> None:
    """Send a batch's labels (or a range of them) to a ZPL printer as a resumable print job."""
    from ..labelling import service as labelling_service
    from ..trace import queries

    rt = runtime()
    with _label_errors():
        with rt.transaction() as s:
            b = queries.get_batch(s, batch_number, sku=product)
            job = labelling_service.create_print_job(s, settings=rt.settings, batch=b, template=template_ref,
                                                     printer=printer, first=first, last=last, dpi=dpi,
                                                     allow_path=True)
            job_id, total = job.id, job.total
        _run_print_job(rt, job_id, total=total, done=0, chunk=chunk)


@labels.command("resume")
@click.argument("job_id", type=click.IntRange(1, MAX_INT))
@click.option("--chunk", type=click.IntRange(1, 10_000), default=100, show_default=True)
def labels_resume(job_id: int, chunk: int) -> None:
    """Continue a failed print job from the last label the printer confirmed."""
    from ..labelling import service as labelling_service

    rt = runtime()
    with _label_errors():
        with rt.transaction() as s:
            job = labelling_service.resume_print_job(s, job_id)
            total, done = job.total, job.done
        _run_print_job(rt, job_id, total=total, done=done, chunk=chunk)


def _run_print_job(rt: Runtime, job_id: int, *, total: int, done: int, chunk: int) -> None:
    from ..labelling.runner import print_batch

    with click.progressbar(length=total, label=f"print job {job_id}", file=sys.stderr) as bar:
        bar.update(done)
        job = print_batch(rt.sessions, rt.settings, job_id, chunk=chunk, progress=bar.update, allow_path=True)
    if job.state != "done":
        click.echo(f"error: print job {job.id} failed after {job.done} of {job.total} labels: {job.error}", err=True)
        click.echo(f"check the printer, then continue with: serialtrace labels resume {job.id} "
                   "(or print an explicit range again with: serialtrace labels print --from N --to M)", err=True)
        click.get_current_context().exit(1)
    click.echo(f"print job {job.id}: {job.total} labels sent to {job.printer}")


@labels.command("jobs")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True)
def labels_jobs(limit: int) -> None:
    """Recent print jobs: state, progress, printer and error."""
    from ..labelling.queries import list_print_jobs

    with runtime().read() as s:
        for job, b in list_print_jobs(s, limit=limit):
            where = job.printer or f"{job.output} file"
            click.echo(f"{job.id}\t{b.number}\t{job.template}\t{where}\t{job.state}\t{job.done}/{job.total}"
                       f"\t{job.created_by}\t{job.error}".rstrip())
