"""A live app for browser tests: a real SQLite file, a WSGI server in a thread, Debian's Chromium flags."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from werkzeug.serving import make_server

from serialtrace.accounts import service as accounts_service
from serialtrace.migrate import upgrade
from serialtrace.runtime import Runtime
from serialtrace.trace import service
from serialtrace.web import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the networking flags Chromium keeps dialling Google hosts that this closed network refuses.
BASE_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run",
             "--disable-component-update"]
GTIN = "04601234560016"
USER, PASSWORD = "anna", "desk-pass-1"


@contextmanager
def live_app(path: Path, *, lots: list[service.LotInput] | None = None, ship_first: bool = False,
             role: str = "warehouse") -> Iterator[tuple[str, list[str], Runtime]]:
    """Serve the app on a fresh database holding one user of `role` (warehouse) and a batch of three units."""
    rt = Runtime.from_env({"database_url": f"sqlite:///{path}", "secret_key": "browser-test", "serial_key": "k"})
    upgrade(rt.engine)
    with rt.transaction() as s:
        accounts_service.create_user(s, username=USER, role=role, password=PASSWORD)
        service.add_product(s, sku="PR-100", name="Flow meter UR-100", gtin=GTIN, warranty_months=24)
        _, serials = service.register_batch(
            s, product="PR-100", quantity=3, number="2501A00", produced_on=date(2025, 1, 13), line="Line 1",
            scheme=rt.serial_scheme(), inputs=lots or [])
        if ship_first:
            customer = service.get_or_create_customer(s, name="МУП «Горсети»", tax_id="5401234567")
            service.create_shipment(s, customer=customer, shipped_on=date(2025, 3, 14), serials=serials[:1])
    server = make_server("127.0.0.1", 0, create_app(runtime=rt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", serials, rt
    finally:
        server.shutdown()
        rt.engine.dispose()


def login(page, base: str, path: str = "/station") -> None:
    """Log in through the form and land on `path`."""
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{path}")
