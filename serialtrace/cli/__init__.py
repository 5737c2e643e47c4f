"""The `serialtrace` console script: as thin as a view, one transaction per command."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, NoSuchModuleError, OperationalError

from ..config import ConfigError, business_today
from ..errors import DomainError, ValidationError
from ..runtime import Runtime
from ..trace.policy import MAX_BATCH_QUANTITY, MAX_INT, parse_date


def _runtime() -> Runtime:
    ctx = click.get_current_context()
    return ctx.find_root().obj


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class _Group(click.Group):
    """Turns domain errors into one clear line on stderr and exit code 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            click.echo(f"error: {exc.message}", err=True)
            if exc.details and isinstance(exc.details, dict) and exc.details.get("errors"):
                for row in exc.details["errors"]:
                    click.echo(f"  line {row.get('line')}: {row.get('reason')}", err=True)
            ctx.exit(1)
        except DataError:
            click.echo("error: a value is too long or out of range", err=True)
            ctx.exit(1)
        except click.UsageError as exc:
            # A bad option of a subcommand (a number out of range) is bad input too: one line, exit code 1.
            click.echo(f"error: {exc.format_message()}", err=True)
            ctx.exit(1)
        except UnicodeError:
            # Arguments that are not UTF-8 arrive as lone surrogates, which no database can store.
            click.echo("error: an argument is not valid UTF-8 text", err=True)
            ctx.exit(1)
        except (OperationalError, ArgumentError, NoSuchModuleError) as exc:
            url = ctx.obj.settings.database_url if isinstance(ctx.obj, Runtime) else "?"
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            click.echo(f"error: cannot use the database {make_url(url).render_as_string(hide_password=True)}: "
                       f"{reason}", err=True)
            ctx.exit(1)


def _dpi_option(help_text: str):
    """--dpi limited to the resolutions ZPL printers have, given to the command as an int (or None)."""
    return click.option("--dpi", type=click.Choice(["203", "300", "600"]), help=help_text,
                        callback=lambda _ctx, _param, value: int(value) if value else None)


@contextmanager
def _writing(path: str):
    """An OSError while writing `path` becomes `error: cannot write <path>: <reason>` and exit code 1."""
    try:
        yield
    except OSError as exc:
        click.echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
        click.get_current_context().exit(1)


@click.group(cls=_Group)
@click.pass_context
def main(ctx: click.Context) -> None:
    """serialtrace: serial-number traceability and warranty service."""
    try:
        ctx.obj = Runtime.from_env()
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)


@main.command()
def init() -> None:
    """Create or upgrade the database schema."""
    from ..migrate import upgrade

    rt = _runtime()
    upgrade(rt.engine)
    click.echo(f"database ready: {rt.engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.option("--units", type=click.IntRange(0, 5_000_000), default=20_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has products.")
def demo(units: int, seed: int, if_empty: bool) -> None:
    """Load realistic demo data (deterministic by seed) and print the demo logins."""
    from ..demo import DEMO_PASSWORD, load_demo, database_is_empty
    from ..migrate import upgrade

    rt = _runtime()
    upgrade(rt.engine)
    if if_empty and not database_is_empty(rt):
        click.echo("demo data already loaded")
    else:
        with click.progressbar(length=units, label="demo units", file=sys.stderr) as bar:
            summary = load_demo(rt, units=units, seed=seed, progress=bar.update)
        click.echo(summary)
    click.echo(f"demo logins (password {DEMO_PASSWORD}): warehouse, coordinator, engineer, quality, supervisor, "
               "production, admin")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--tls", is_flag=True, help="Serve https with a generated self-signed certificate.")
def serve(host: str, port: int, threads: int, cert: str | None, key: str | None, tls: bool) -> None:
    """Serve the web app on a production WSGI server (waitress; cheroot when serving https).

    SERIALTRACE_CONNECTION_LIMIT and SERIALTRACE_IDLE_TIMEOUT bound the open connections; behind a reverse
    proxy set SERIALTRACE_PROXY_FIX to the number of proxies.
    """
    from ..web import create_app
    from ..web.serving import serve_http

    settings = _runtime().settings
    try:
        app = create_app(runtime=_runtime())
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if cert or key or tls:
        from ..web.tls import serve_tls

        serve_tls(app, settings, host=host, port=port, cert=cert, key=key, threads=threads)
        return
    serve_http(app, settings, host=host, port=port, threads=threads)


@main.group()
def products() -> None:
    """Manage products."""


@products.command("add")
@click.option("--sku", required=True)
@click.option("--name", required=True)
@click.option("--gtin")
@click.option("--warranty-months", type=int, default=24, show_default=True)
@click.option("--family", default="")
@click.option("--warranty-start", type=click.Choice(["shipment", "sale"]), default="shipment", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def products_add(sku, name, gtin, warranty_months, family, warranty_start, as_json) -> None:
    """Register a product."""
    from ..trace import service
    from ..trace.dossier import product_dict

    with _runtime().transaction() as s:
        p = service.add_product(s, sku=sku, name=name, gtin=gtin, warranty_months=warranty_months, family=family,
                                warranty_start=warranty_start)
        out = product_dict(p)
    _echo_json(out) if as_json else click.echo(f"product {out['sku']} added (GTIN {out['gtin'] or '-'})")


@products.command("list")
def products_list() -> None:
    """List products."""
    from ..trace import queries

    with _runtime().transaction() as s:
        for p in queries.list_products(s):
            click.echo(f"{p.sku}\t{p.gtin or '-'}\t{p.warranty_months} months\t{p.name}")


@main.group()
def batch() -> None:
    """Manage production batches."""


@batch.command("create")
@click.option("--product", "product", required=True, help="SKU or GTIN.")
@click.option("--quantity", type=click.IntRange(0, MAX_BATCH_QUANTITY), required=True)
@click.option("--number", help="Batch number (generated when omitted).")
@click.option("--produced-on", help="Production date, YYYY-MM-DD (default today).")
@click.option("--line", default="")
@click.option("--shift", default="")
@click.option("--lot", "lots", multiple=True, help="Component lot SUPPLIER:PART:LOT (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def batch_create(product, quantity, number, produced_on, line, shift, lots, as_json) -> None:
    """Register a batch and allocate its serials in one transaction."""
    from ..trace import service

    inputs = []
    for lot in lots:
        parts = lot.split(":")
        if len(parts) != 3:
            raise ValidationError(f"--lot {lot!r} must be SUPPLIER:PART:LOT")
        inputs.append(service.LotInput(*parts))
    rt = _runtime()
    # A progress bar only for batches big enough to take a noticeable time; it goes to stderr so --json stays clean.
    with rt.transaction() as s, click.progressbar(length=quantity, label="allocating serials", file=sys.stderr,
                                                   hidden=quantity < 50_000) as bar:
        b, serials = service.register_batch(
            s, product=product, quantity=quantity, number=number,
            produced_on=parse_date(produced_on, field="produced_on") if produced_on else business_today(rt.settings),
            line=line, shift=shift,
            inputs=inputs, scheme=rt.serial_scheme(), progress=bar.update, today=business_today(rt.settings))
        out = {"batch": b.number, "quantity": quantity, "first_serial": serials[0] if serials else None,
               "last_serial": serials[-1] if serials else None}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"batch {out['batch']}: {quantity} units, serials {out['first_serial']} .. {out['last_serial']}")


def _set_batch_status(number: str, product: str | None, status: str, reason: str) -> None:
    from ..trace import queries, service

    with _runtime().transaction() as s:
        event = service.set_batch_status(s, batch=queries.get_batch(s, number, sku=product), status=status,
                                         reason=reason)
        out = f"batch {number}: {event.from_status} -> {event.to_status} ({event.reason})"
    click.echo(out)


@batch.command("hold")
@click.argument("number")
@click.option("--reason", required=True, help="Why the batch is held (kept in its history).")
@click.option("--product", help="SKU when several products share the batch number.")
def batch_hold(number: str, reason: str, product: str | None) -> None:
    """Put a batch on hold: none of its units can be shipped until it is released."""
    _set_batch_status(number, product, "on_hold", reason)


@batch.command("release")
@click.argument("number")
@click.option("--reason", required=True, help="Why the batch is released (kept in its history).")
@click.option("--product", help="SKU when several products share the batch number.")
def batch_release(number: str, reason: str, product: str | None) -> None:
    """Release a batch on hold, so its units can be shipped again."""
    _set_batch_status(number, product, "released", reason)


@batch.command("history")
@click.argument("number")
@click.option("--product", help="SKU when several products share the batch number.")
def batch_history(number: str, product: str | None) -> None:
    """A batch's holds, releases and recalls: when, who, from which status to which, and why."""
    from ..trace import queries

    with _runtime().read() as s:
        events = queries.list_batch_events(s, queries.get_batch(s, number, sku=product))
        lines = [f"{e.at:%Y-%m-%d %H:%M}\t{e.author}\t{e.from_status} -> {e.to_status}\t{e.reason}" for e in events]
    click.echo("\n".join(lines) if lines else f"batch {number}: no status changes")


@main.command()
@click.option("--customer", required=True, help="Customer name.")
@click.option("--tax-id", help="Customer tax id (INN).")
@click.option("--date", "shipped_on", help="Ship date YYYY-MM-DD (default today).")
@click.option("--reference", default="")
@click.option("--carrier", default="")
@click.option("--serial", "serials", multiple=True, help="Serial to ship (repeatable).")
@click.option("--batch", "batches", multiple=True, help="BATCH:QUANTITY to ship from a batch (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def ship(customer, tax_id, shipped_on, reference, carrier, serials, batches, as_json) -> None:
    """Ship units to a customer by serial or by batch and quantity."""
    from ..trace import service

    lines = []
    for item in batches:
        number, _, qty = item.rpartition(":")
        if not number or not qty.isdigit():
            raise ValidationError(f"--batch {item!r} must be BATCH:QUANTITY")
        if not 1 <= int(qty) <= MAX_INT:
            raise ValidationError(f"--batch {item!r}: the quantity must be from 1 to {MAX_INT}")
        lines.append(service.BatchLine(batch=number, quantity=int(qty)))
    with _runtime().transaction() as s:
        cust = service.get_or_create_customer(s, name=customer, tax_id=tax_id)
        day = parse_date(shipped_on, field="shipped_on") if shipped_on else business_today(_runtime().settings)
        sh = service.create_shipment(s, customer=cust, shipped_on=day,
                                     serials=serials, batch_lines=lines, reference=reference, carrier=carrier,
                                     today=business_today(_runtime().settings))
        out = {"shipment": sh.id, "customer": cust.name, "shipped_on": sh.shipped_on.isoformat()}
    _echo_json(out) if as_json else click.echo(f"shipment {out['shipment']} to {out['customer']} recorded")


@main.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
def lookup(code: str, as_json: bool) -> None:
    """Show the dossier of a unit by serial or scanned code."""
    from ..errors import NotFound
    from ..scanner import parse_scan
    from ..serials import MISTYPED, is_mistyped
    from ..trace import queries
    from ..warranty.dossier import unit_dossier

    rt = _runtime()
    serial, gtin = _serial_from_code(code, parse_scan)
    with rt.transaction() as s:
        try:
            unit = queries.get_unit(s, serial, gtin=gtin)
        except NotFound as exc:
            # A plain serial typed in the configured shape whose check character fails is a typo: say so.
            if serial == code.strip() and is_mistyped(rt.serial_scheme(), serial):
                raise NotFound(f"{exc.message}: {MISTYPED}", details=exc.details) from None
            raise
        dossier = unit_dossier(s, unit, today=business_today(rt.settings), grace_days=rt.settings.warranty_grace_days)
    if as_json:
        _echo_json(dossier)
        return
    u, p, b = dossier["unit"], dossier["product"], dossier["batch"]
    click.echo(f"{p['name']} ({p['sku']}) serial {u['serial']}  status {u['status']}")
    click.echo(f"batch {b['number']} produced {b['produced_on']} line {b['line'] or '-'}; "
               f"inputs: {', '.join(i['lot'] for i in b['inputs']) or '-'}")
    for sh in dossier["shipments"]:
        click.echo(f"shipped {sh['shipped_on']} to {sh['customer']['name']} ({sh['reference'] or '-'})")
    click.echo(dossier["warranty"]["reason"])
    for c in dossier["claims"]:
        click.echo(f"claim {c['number']} {c['state']} {c['symptom']}")


def _serial_from_code(code: str, parse_scan) -> tuple[str, str | None]:
    """The serial a scanned code names (GS1 (21), Digital Link) with its GTIN (01) if any, or the code itself."""
    try:
        parsed = parse_scan(code)
    except ValueError:
        return code.strip(), None
    # The GTIN picks the product when two products share a serial.
    return parsed.serial or parsed.text or code.strip(), parsed.gtin if parsed.serial else None


@main.command("trace")
@click.argument("batch_number")
@click.option("--forward", "direction", flag_value="forward", help="Where its units went.")
@click.option("--backward", "direction", flag_value="backward", help="What went into it.")
@click.option("--product", help="SKU when several products share the batch number.")
@click.option("--lot", is_flag=True, help="BATCH_NUMBER is a component lot number: the batches it went into.")
def trace_cmd(batch_number: str, direction: str | None, product: str | None, lot: bool) -> None:
    """Batch genealogy backward and/or forward (for a component lot: forward), as JSON."""
    from ..trace import genealogy, queries

    with _runtime().transaction() as s:
        out = {}
        if lot:
            out["forward"] = genealogy.lot_forward(s, queries.get_component_lot(s, batch_number))
        else:
            b = queries.get_batch(s, batch_number, sku=product)
            if direction in (None, "backward"):
                out["backward"] = genealogy.backward(s, b)
            if direction in (None, "forward"):
                out["forward"] = genealogy.forward(s, b)
    _echo_json(out)


@main.command()
@click.argument("batch_number")
@click.option("--lot", is_flag=True, help="BATCH_NUMBER is a component lot number.")
@click.option("--product", help="SKU when several products share the batch number.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write the recall list here.")
def recall(batch_number: str, lot: bool, product: str | None, csv_path: str | None) -> None:
    """Recall list of a batch or component lot: customers, contacts, serials, ship dates."""
    from ..trace import genealogy, queries

    with _runtime().transaction() as s:
        if lot:
            ids = genealogy.lot_batch_ids(s, queries.get_component_lot(s, batch_number))
        else:
            ids = [queries.get_batch(s, batch_number, sku=product).id]
        chunks = genealogy.recall_csv(genealogy.recall_rows(s, batch_ids=ids))
        if csv_path:
            with _writing(csv_path), open(csv_path, "w", newline="", encoding="utf-8") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            click.echo(f"recall list written to {csv_path}")
        else:
            for chunk in chunks:
                click.echo(chunk, nl=False)


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(["products", "batches", "shipments"]), help="Detected from headers when omitted.")
def import_cmd(path: str, kind: str | None) -> None:
    """Import products, batches or shipments from an ERP CSV export (all rows or nothing)."""
    from ..trace.importer import import_file

    rt = _runtime()
    data = Path(path).read_bytes()
    with rt.transaction() as s:
        with click.progressbar(length=1, label=f"importing {Path(path).name}", file=sys.stderr) as bar:
            report = import_file(s, data=data, kind=kind, scheme=rt.serial_scheme(), today=business_today(rt.settings),
                                 progress=lambda done, total: (setattr(bar, "length", total), bar.update(done - bar.pos)))
    click.echo(report.summary())


@main.group()
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

    for name, t, error in list_templates(_runtime().settings):
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

    rt = _runtime()
    with _writing(out), _label_errors(), rt.transaction() as s:
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

    rt = _runtime()
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

    rt = _runtime()
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

    with _runtime().transaction() as s:
        for job, b in list_print_jobs(s, limit=limit):
            where = job.printer or f"{job.output} file"
            click.echo(f"{job.id}\t{b.number}\t{job.template}\t{where}\t{job.state}\t{job.done}/{job.total}"
                       f"\t{job.created_by}\t{job.error}".rstrip())


@main.group()
def users() -> None:
    """Manage users."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--email", default="")
def users_add(name: str, role: str, password_stdin: bool, email: str) -> None:
    """Add a user with a role; the password (at least 10 characters, not common) comes from stdin or a prompt."""
    from ..accounts import service as accounts_service

    password = _read_password(password_stdin)
    with _runtime().transaction() as s:
        accounts_service.create_user(s, username=name, role=role, password=password, email=email)
    click.echo(f"user {name} added with role {role}")


def _read_password(from_stdin: bool) -> str:
    """One line of standard input, or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def users_passwd(name: str, password_stdin: bool) -> None:
    """Set a user's password; every session of theirs ends (API tokens stay valid)."""
    from ..accounts import queries as accounts_queries
    from ..accounts import service as accounts_service

    password = _read_password(password_stdin)
    with _runtime().transaction() as s:
        accounts_service.set_password(s, accounts_queries.get_user(s, name), password=password)
    click.echo(f"password of {name} changed; their open sessions have ended")


@users.command("unlock")
@click.argument("name")
def users_unlock(name: str) -> None:
    """Forget the failed log-ins counted against a user name, ending its lockout (address lockouts stay)."""
    from ..accounts import service as accounts_service

    with _runtime().transaction() as s:
        count = accounts_service.clear_failures(s, name)
    click.echo(f"user name {name}: {count} failed log-ins forgotten")


@users.command("deactivate")
@click.argument("name")
def users_deactivate(name: str) -> None:
    """Stop a user from logging in; their API tokens stop working too."""
    from ..accounts import service as accounts_service

    with _runtime().transaction() as s:
        accounts_service.deactivate_user(s, name)
    click.echo(f"user {name} deactivated; logins and API tokens are refused")


@main.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("name")
@click.option("--user", "username", help="The user the token acts as (default: a user named NAME, created "
                                         "with --role when missing).")
@click.option("--role", default="admin", show_default=True, help="Role of the integration user created for NAME.")
def tokens_create(name: str, username: str | None, role: str) -> None:
    """Create an API token and print it once on stdout (only its hash is stored)."""
    from ..accounts import queries as accounts_queries
    from ..accounts import service as accounts_service
    from ..errors import NotFound

    with _runtime().transaction() as s:
        try:
            user = accounts_queries.get_user(s, username or name)
        except NotFound:
            if username:
                raise
            user = accounts_service.create_user(s, username=name, role=role, display_name=f"{name} (API)")
            click.echo(f"created integration user {name} with role {role}", err=True)
            if role == "admin":
                click.echo(f"warning: this token has full rights (role admin); for less, revoke it and run "
                           f"serialtrace tokens create {name} --role ROLE (e.g. warehouse) or --user USER",
                           err=True)
        secret = accounts_service.create_token(s, name=name, user=user)
    click.echo(secret)


@tokens.command("list")
def tokens_list() -> None:
    """Every token: name, user, prefix, created, last used, revoked (never the secret)."""
    from ..accounts import queries as accounts_queries

    def when(moment) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"

    with _runtime().transaction() as s:
        for token, user in accounts_queries.list_tokens(s):
            state = "revoked" if token.revoked else ("user inactive" if not user.active else "active")
            click.echo(f"{token.name}\t{user.username}\t{token.prefix}\t{when(token.created_at)}"
                       f"\t{when(token.last_used_at)}\t{state}")


@tokens.command("revoke")
@click.argument("name_or_prefix")
def tokens_revoke(name_or_prefix: str) -> None:
    """Revoke the tokens with this name or prefix (as `tokens list` shows them); they get 401 from then on."""
    from ..accounts import service as accounts_service

    with _runtime().transaction() as s:
        revoked = [(t.name, t.prefix) for t in accounts_service.revoke_tokens(s, name_or_prefix)]
    for name, prefix in revoked:
        click.echo(f"token {name} ({prefix}...) revoked")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line and file.")
def scan(files: tuple[str, ...], as_json: bool) -> None:
    """Decode the barcodes in image files; an unreadable file is reported and the next one goes on."""
    import cv2

    from ..scanner import scan_files

    # OpenCV prints its own warnings for broken files; the JSON line's "error" already says what went wrong.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

    failed = False
    for result in scan_files(list(files)):
        failed = failed or bool(result["error"])
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        elif result["error"]:
            click.echo(f"{result['file']}: error: {result['error']}")
        else:
            for code in result["codes"]:
                flag = "" if code["confirmed"] else " (unconfirmed)"
                click.echo(f"{result['file']}: {code['format']} {code['symbology_id'] or ''} {code['text']!r}{flag}")
    if failed:
        # Every file got its line; the exit code tells a script that at least one could not be read.
        click.get_current_context().exit(1)


@main.command()
@click.option("--camera", "camera", type=click.IntRange(0, 999), required=True, help="Camera index (0 is the first).")
@click.option("--server", help="Post each confirmed code to this serialtrace server, e.g. https://host:5000.")
@click.option("--token", envvar="SERIALTRACE_TOKEN", help="API token for --server (or SERIALTRACE_TOKEN).")
@click.option("--station", "station_name", default="", help="Station name sent with each scan (default: host name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line and code.")
def station(camera: int, server: str | None, token: str | None, station_name: str, as_json: bool) -> None:
    """Read barcodes from a camera; print (and beep for) each confirmed code, optionally post it to a server."""
    import platform

    from .. import scanner
    from ..station.schemas import scan_text

    if server and not token:
        raise click.UsageError("--server needs --token (or SERIALTRACE_TOKEN)")
    name = station_name or platform.node()

    def on_code(code) -> None:
        text = scan_text(code)
        if as_json:
            line = {"code": text, "text": code.text, "format": code.format, "symbology_id": code.symbology_id,
                    "confirmed": code.confirmed}
            click.echo(json.dumps(line, ensure_ascii=False) + "\a")
        else:
            # repr shows the GS separators a terminal would swallow; the bell tells the person without a screen.
            click.echo(f"{code.format} {text!r}\a")
        if server:
            try:
                answer = _post_scan(server, token, {"code": text, "station": name, "source": "camera"})
            except OSError as exc:
                click.echo(f"error: server {server}: {getattr(exc, 'reason', None) or exc}", err=True)
                return
            if as_json:
                click.echo(json.dumps(answer, ensure_ascii=False))
            else:
                click.echo(f"  {answer.get('result')}: {answer.get('message')}")

    try:
        scanner.run_camera(camera, on_code)
    except scanner.CameraError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


def _post_scan(server: str, token: str | None, body: dict) -> dict:
    """POST one scan to a server's /api/v1/scans and return its JSON answer (error answers too)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        server.rstrip("/") + "/api/v1/scans", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
        except ValueError:
            answer = {"message": exc.reason}
        return {"result": f"error {exc.code}", "message": answer.get("message")}


if __name__ == "__main__":  # pragma: no cover
    main()
