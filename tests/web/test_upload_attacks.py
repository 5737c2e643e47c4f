"""Every upload route fed hostile files: a 4xx naming the limit or the problem, nothing stored, memory bounded.

The routes are found in the app (every view that reads request.files or the raw request stream, followed through
the helpers it calls), so a new upload route without a row in ROUTES fails the first test.
"""

from __future__ import annotations

import ast
import html
import inspect
import io
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from serialtrace.station.models import ScanLog
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, Product, Shipment, Unit
from serialtrace.warranty import knowledge
from serialtrace.warranty.models import Attachment, Claim, Comment, FailureCode, KnowledgeFile

from ..warranty.tested_case import make_tested
from .conftest import csrf_from
from tests import images
from tests.scanner import hostile

MAX_UPLOAD = 1_000_000
ATTACHMENT_LIMIT = 64_000
# Peak RSS growth of the test process while one bomb is refused (measured 0-5 MB): the files are a few kB to
# 300 kB, and a decoded bomb would be hundreds of MB (20000x20000 grey is 400 MB, the spreadsheet 200 MB).
BOMB_RSS_BOUND = 32 * 1024 * 1024


@pytest.fixture
def settings_overrides(tmp_path):
    return {"instance_dir": str(tmp_path), "attachment_max_bytes": ATTACHMENT_LIMIT, "max_upload_bytes": MAX_UPLOAD}


# --- the hostile files ---------------------------------------------------------------------------------------------

def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 200).save(out, "JPEG")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def png_bomb(side: int = 20_000) -> bytes:
    """A complete, valid 1-bit PNG of side x side pixels (400 MP by default) in about 50 kB: rows of zeros."""
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


@cache
def jpeg_bomb(side: int = 65_000) -> bytes:
    """A small real JPEG whose frame header claims side x side pixels (4.2 GP): the data is a few hundred bytes."""
    data = bytearray(_jpeg((16, 16)))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, side, side)
    return bytes(data)


@cache
def xlsx_bomb() -> bytes:
    """A zip-bomb spreadsheet: a 200 MB sheet of blanks compressed to about 200 kB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * 1_000_000
            for _ in range(200):
                sheet.write(block)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@dataclass(frozen=True)
class Case:
    """One hostile upload and what the answer must say."""

    name: str
    make: Callable[[], bytes] | None  # None: the file field is left out
    filename: str
    content_type: str
    status: tuple[int, ...]
    message: str  # a regular expression the answer's message must match (the limit or the problem named)
    bomb: bool = False


def _image_cases() -> list[Case]:
    good = hostile.png(200, 120, 200)
    return [
        Case("missing-field", None, "", "", (422,), r"field (image|frame) is required"),
        Case("empty", lambda: b"", "a.png", "image/png", (422,), r"empty upload: the image has no bytes"),
        Case("truncated-png", lambda: good[: len(good) // 2], "a.png", "image/png", (422,), r"truncated|corrupt"),
        Case("corrupt-png", lambda: good[:40] + bytes(range(256)) * 8, "a.png", "image/png", (422,),
             r"not an image: format not recognised"),
        Case("png-bomb", png_bomb, "a.png", "image/png", (413,), r"20000x20000 pixels \(limit [0-9]+ pixels\)",
             bomb=True),
        Case("jpeg-bomb", jpeg_bomb, "a.jpg", "image/jpeg", (413, 422),
             r"65000x65000 pixels \(limit [0-9]+ pixels\)", bomb=True),
        Case("pdf-named-png", lambda: PDF, "a.png", "image/png", (422,), r"not an image: send PNG, JPEG"),
        Case("svg-named-png", lambda: SVG, "a.png", "image/png", (422,), r"not an image: send PNG, JPEG"),
        Case("text-as-image-png", lambda: b"SN-0001\n", "scan.png", "image/png", (422,),
             r"not an image: send PNG, JPEG"),
        Case("over-max-content-length", lambda: good + b"\x00" * MAX_UPLOAD, "a.png", "image/png", (413,),
             rf"upload too large: the limit is {MAX_UPLOAD} bytes"),
    ]


def _file_cases() -> list[Case]:
    png = hostile.png(200, 120, 200)
    jpeg = _jpeg((200, 120))
    return [
        Case("missing-field", None, "", "", (422,), r"field files? is required|choose a file"),
        Case("empty", lambda: b"", "a.png", "image/png", (422,), r"the file is empty"),
        Case("truncated-png", lambda: png[: len(png) // 2], "a.png", "image/png", (422,),
             r"the file is a PNG image, truncated or corrupt"),
        Case("truncated-jpeg", lambda: jpeg[: len(jpeg) // 2], "a.jpg", "image/jpeg", (422,),
             r"the file is a JPEG image, truncated or corrupt"),
        Case("corrupt-png", lambda: png[:8] + bytes(range(256)) * 4, "a.png", "image/png", (422,),
             r"the file is a PNG image, truncated or corrupt"),
        Case("png-bomb", png_bomb, "a.png", "image/png", (413,),
             r"the image is 20000x20000 pixels; the limit is [0-9,]+ pixels", bomb=True),
        Case("jpeg-bomb", jpeg_bomb, "a.jpg", "image/jpeg", (413,),
             r"the image is 65000x65000 pixels; the limit is [0-9,]+ pixels", bomb=True),
        Case("png-named-csv", lambda: png, "values.csv", "text/csv", (415,),
             r"the file is named values\.csv but holds a PNG image"),
        Case("pdf-named-png", lambda: PDF, "photo.png", "image/png", (415,),
             r"the file is named photo\.png but holds a PDF document"),
        Case("svg-named-png", lambda: SVG, "photo.png", "image/png", (415,),
             r"the file's content is not an allowed type; allowed: JPEG, PNG"),
        Case("html-named-png", lambda: HTML, "photo.png", "image/png", (415,),
             r"the file's content is not an allowed type; allowed: JPEG, PNG"),
        Case("text-as-image-png", lambda: b"reading 4.2 mA\n", "photo.png", "image/png", (415,),
             r"the file is named photo\.png but holds text"),
        Case("over-route-limit", lambda: png + b"\x00" * ATTACHMENT_LIMIT, "a.png", "image/png", (413,),
             rf"the file is larger than the limit of {ATTACHMENT_LIMIT} bytes"),
        Case("over-max-content-length", lambda: png + b"\x00" * MAX_UPLOAD, "a.png", "image/png", (413,),
             rf"upload too large: the limit is {MAX_UPLOAD} bytes"),
    ]


def _csv_cases(header: str, row: str, *, limit: int | None, binary: str, field_limit: str, empty: str,
               missing: str, cut: str, wide: str) -> list[Case]:
    good = f"{header}\n{row}\n".encode()
    cases = [
        Case("missing-field", None, "", "", (400, 422), missing),
        Case("empty", lambda: b"", "a.csv", "text/csv", (422,), empty),
        Case("truncated-utf8", lambda: (header + "\n" + row).encode()[:-1] + "Д".encode()[:1], "a.csv", "text/csv",
             (422,), cut),
        Case("corrupt-bytes", lambda: good[:20] + bytes(range(256)) * 16, "a.csv", "text/csv", (422,), binary),
        Case("xlsx-zip-bomb", xlsx_bomb, "a.xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (422,), binary, bomb=True),
        Case("huge-line", lambda: f"{header}\n\"{'A' * 300_000}".encode(), "a.csv", "text/csv", (422,), field_limit,
             bomb=True),
        Case("wide-line", lambda: f"{header}\n{',' * 300_000}".encode(), "a.csv", "text/csv", (422,), wide,
             bomb=True),
        Case("png-named-csv", lambda: hostile.png(64, 48, 200), "a.csv", "text/csv", (422,), binary),
        Case("html-named-csv", lambda: HTML, "a.csv", "text/csv", (422,), r"line|header|column"),
        Case("over-max-content-length", lambda: good + b"x" * MAX_UPLOAD, "a.csv", "text/csv", (413,),
             rf"upload too large: the limit is {MAX_UPLOAD} bytes"),
    ]
    if limit is not None:
        cases.append(Case("over-route-limit", lambda: good + b"#" * limit, "a.csv", "text/csv", (413, 422),
                          rf"{limit}"))
    return cases


IMPORT_CASES = _csv_cases(
    "name,sku", "Flow meter,FM-1", limit=None, binary=r"binary data|is neither UTF-8 nor Windows-1251 text",
    field_limit=r"a field is longer than 131,072 characters", empty=r"the file is empty",
    missing=r"choose a CSV file to import", cut=r"ends in the middle of a UTF-8 character", wide=r"no data rows")
CODE_CASES = _csv_cases(
    "list,code,name", "symptom,leak,Leak", limit=524_288, binary=r"not UTF-8 text|binary",
    field_limit=r"line 2", empty=r"the file lists no codes|empty",
    missing=r"choose a CSV file|as the multipart field file",
    cut=r"the file is not UTF-8 text", wide=r"the file lists no codes")


# --- the routes ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """How to reach one upload route and what must stay unchanged when it refuses a file."""

    url: Callable[[dict], str]
    field: str
    cases: list[Case]
    role: str
    page: Callable[[dict], str] | None = None  # a page whose form carries the CSRF token; None for the API
    form: Callable[[dict], dict] = lambda ctx: {}
    # The file is optional on the form (a comment, a complaint): leaving it out is no attack.
    optional: bool = False
    # A good file the route takes, and whether taking it stores something: proves the refusals are refusals.
    control: tuple[Callable[[], bytes], str, str] = (lambda: images.PNG, "board.png", "image/png")
    stores: bool = True


IMAGE_CASES = _image_cases()
FILE_CASES = _file_cases()
LABEL = (lambda: hostile.png(200, 120), "label.png", "image/png")
CODES_CSV = (lambda: b"list,code,name\nsymptom,hum,Humming\n", "codes.csv", "text/csv")

ROUTES: dict[str, Route] = {
    "api.post_scan_image": Route(lambda c: "/api/v1/scans/image", "image", IMAGE_CASES, "warehouse",
                                 form=lambda c: {"station": "desk-1"}, control=LABEL, stores=False),
    "api.post_scan_frame": Route(lambda c: "/api/v1/scans/frame", "frame", IMAGE_CASES, "warehouse",
                                 form=lambda c: {"station": "desk-1"}, control=LABEL, stores=False),
    "api.post_claim_attachment": Route(lambda c: f"/api/v1/claims/{c['claim_id']}/attachments", "file", FILE_CASES,
                                       "engineer"),
    "api.post_knowledge_file": Route(lambda c: f"/api/v1/knowledge/{c['article_id']}/files", "file", FILE_CASES,
                                     "engineer"),
    "api.post_failure_code_import": Route(lambda c: "/api/v1/failure-codes/import", "file", CODE_CASES, "quality",
                                          control=CODES_CSV),
    "pages.case_attach": Route(lambda c: f"/cases/{c['case_id']}/attachments", "file", FILE_CASES, "engineer",
                               page=lambda c: f"/cases/{c['case_id']}"),
    "pages.claim_comment": Route(lambda c: f"/claims/{c['claim_number']}/comments", "files", FILE_CASES, "engineer",
                                 page=lambda c: f"/claims/{c['claim_number']}",
                                 form=lambda c: {"body": "see the file", "visibility": "internal"}, optional=True),
    "pages.station_complaint": Route(lambda c: "/station/complaint", "photos", FILE_CASES, "warehouse",
                                     page=lambda c: f"/station/complaint?serial={c['free_serial']}",
                                     form=lambda c: {"serial": c["free_serial"], "symptom": "no_power"},
                                     optional=True),
    "pages.knowledge_files": Route(lambda c: f"/knowledge/{c['article_id']}/files", "files", FILE_CASES, "engineer",
                                   page=lambda c: f"/knowledge/{c['article_id']}"),
    "pages.code_import": Route(lambda c: "/codes/import", "file", CODE_CASES, "quality", page=lambda c: "/codes",
                               control=CODES_CSV),
    "pages.import_page": Route(lambda c: "/import", "file", IMPORT_CASES, "production", page=lambda c: "/import",
                               control=(lambda: b"name,sku\nFlow meter,FM-CTRL-1\n", "products.csv", "text/csv")),
}


# --- finding the upload routes in the app ------------------------------------------------------------------------

def _reads_upload(node: ast.AST) -> bool:
    """Whether the code under `node` touches request.files or request.stream."""
    return any(isinstance(n, ast.Attribute) and n.attr in ("files", "stream") and isinstance(n.value, ast.Name)
               and n.value.id == "request" for n in ast.walk(node))


@cache
def _module_functions(module_name: str) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(Path(sys.modules[module_name].__file__).read_text(encoding="utf-8"))
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def view_reads_uploads(view: Callable) -> bool:
    """Whether the view, or a function of the web package it calls (to any depth), reads the uploaded files."""
    todo = [inspect.unwrap(view)]
    seen: set[tuple[str, str]] = set()
    while todo:
        fn = todo.pop()
        key = (fn.__module__, fn.__name__)
        if key in seen or not fn.__module__.startswith("serialtrace.web"):
            continue
        seen.add(key)
        node = _module_functions(fn.__module__).get(fn.__name__)
        if node is None:
            continue
        if _reads_upload(node):
            return True
        names = vars(sys.modules[fn.__module__])
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            target = call.func
            found = None
            if isinstance(target, ast.Name):
                found = names.get(target.id)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                    and inspect.ismodule(names.get(target.value.id)):  # a helper module's function, not a proxy
                found = getattr(names[target.value.id], target.attr, None)
            if inspect.isfunction(found):
                todo.append(inspect.unwrap(found))
    return False


def test_every_upload_route_is_fed_the_corpus(app):
    found = {endpoint for endpoint, view in app.view_functions.items() if view_reads_uploads(view)}
    assert found == set(ROUTES), "an upload route without hostile-file coverage (add it to ROUTES), or a stale row"
    # The detector itself: it finds the upload helper two calls below a view, and no JSON-only route.
    assert not view_reads_uploads(app.view_functions["api.post_scan"])


# --- feeding them --------------------------------------------------------------------------------------------------

@pytest.fixture
def ctx(session, make_batch, users) -> dict:
    """A claim with a tested case, a knowledge article and a shipped unit without a claim, for the routes' URLs."""
    tested = make_tested(session, make_batch, users["warehouse"])
    session.get(Product, session.get(Unit, tested.claim.unit_id).product_id).family = "flow"
    article = knowledge.create_article(session, title="Reseat the board", body="Steps", product_family="flow",
                                       symptom="no_power", author=users["engineer"])
    _, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials)
    session.commit()
    return {"claim_id": tested.claim.id, "claim_number": tested.claim.number, "case_id": tested.case.id,
            "article_id": article.id, "free_serial": serials[0]}


def _stored(session, folder: Path) -> tuple:
    """Everything an upload route writes: rows of every table they fill, and the files in the instance folder."""
    session.expire_all()
    counts = tuple(session.scalar(select(func.count()).select_from(t))
                   for t in (Attachment, KnowledgeFile, Comment, Claim, ScanLog, FailureCode, Product, Batch, Unit,
                             Shipment))
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return counts, files


def _rss_peak_kib() -> int:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def _reset_rss_peak() -> bool:
    """Reset the process's peak RSS (Linux clear_refs 5), so the next read is the peak since now."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _message(resp) -> str:
    if resp.is_json:
        return resp.get_json()["message"]
    page = resp.get_data(as_text=True)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _multipart(data: dict) -> dict:
    """The request body encoded in memory: the test client spools bodies over 500 kB to a temporary file it never
    closes (a ResourceWarning)."""
    boundary, body = encode_multipart(data)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def _clients(route: Route, login, api, ctx):
    if route.page is None:
        caller = api(route.role)
        return lambda url, data: caller.post(url, **_multipart(data))
    client = login(route.role)
    token = csrf_from(client.get(route.page(ctx)).get_data(as_text=True))
    return lambda url, data: client.post(url, **_multipart({**data, "csrf_token": token}))


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_hostile_files_are_refused_naming_the_problem(endpoint, app, session, login, api, ctx, tmp_path):
    route = ROUTES[endpoint]
    post = _clients(route, login, api, ctx)
    failures = []
    for case in route.cases:
        if case.make is None and route.optional:
            continue
        before = _stored(session, tmp_path)
        data = route.form(ctx)
        if case.make is not None:
            body = case.make()
            data[route.field] = FileStorage(io.BytesIO(body), case.filename, content_type=case.content_type)
        measured = _reset_rss_peak() if case.bomb else False
        start_rss = _rss_peak_kib()
        resp = post(route.url(ctx), data)
        grown = (_rss_peak_kib() - start_rss) * 1024 if measured else 0
        message = _message(resp)
        problems = []
        if resp.status_code not in case.status:
            problems.append(f"status {resp.status_code}")
        if not re.search(case.message, message):
            problems.append(f"message {' '.join(message.split())[-300:]!r}")
        if _stored(session, tmp_path) != before:
            problems.append("something was stored")
        if case.bomb and not measured:
            problems.append("peak RSS not measurable (/proc/self/clear_refs)")
        if grown > BOMB_RSS_BOUND:
            problems.append(f"peak RSS grew by {grown / 1e6:.0f} MB")
        if problems:
            failures.append(f"{case.name}: " + "; ".join(problems))
    make, filename, content_type = route.control
    before = _stored(session, tmp_path)
    resp = post(route.url(ctx), {**route.form(ctx), route.field: FileStorage(io.BytesIO(make()), filename,
                                                                             content_type=content_type)})
    stored = _stored(session, tmp_path) != before
    if resp.status_code >= 400 or stored != route.stores:
        failures.append(f"control: a good file answered {resp.status_code}, stored: {stored}")
    assert not failures, "\n".join(failures)


RAW_CSV_CASES = [
    pytest.param(b"", 422, r"send the CSV file as the body", id="empty"),
    pytest.param(b"list,code,name\n" + bytes(range(256)) * 16, 422, r"not UTF-8 text", id="corrupt-bytes"),
    pytest.param(b"list,code,name\n" + b"#" * 524_288, 422, r"the file is over 524288 bytes", id="over-route-limit"),
    pytest.param(b"x" * (MAX_UPLOAD + 1), 413, rf"upload too large: the limit is {MAX_UPLOAD} bytes",
                 id="over-max-content-length"),
]


@pytest.mark.parametrize(("body", "status", "message"), RAW_CSV_CASES)
def test_the_code_import_refuses_a_hostile_raw_body_too(body, status, message, session, api, tmp_path):
    # The code import also reads the request body itself (Content-Type: text/csv): the same limits apply to it.
    before = _stored(session, tmp_path)
    resp = api("quality").post("/api/v1/failure-codes/import", data=body, content_type="text/csv")
    assert resp.status_code == status and re.search(message, resp.get_json()["message"]), resp.get_json()
    assert _stored(session, tmp_path) == before
