"""A live app for browser tests: a real SQLite file, a WSGI server in a thread, Debian's Chromium flags."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

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


# A chart canvas's drawn size and how many of its pixels are painted (page.evaluate(PAINTED, canvas_id)).
PAINTED = """id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted++; } }
  return {width: canvas.clientWidth, height: canvas.clientHeight, painted};
}"""


def login(page, base: str, path: str = "/station", *, user: str = USER, password: str = PASSWORD) -> None:
    """Log in through the form (as live_app's user unless told otherwise) and land on `path`."""
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{path}")


def open_charts(browser, base: str, path: str, charts: int) -> tuple[Any, list[str]]:
    """A 1366 x 768 page at `path` (logged in) with its `charts` charts drawn, and the console errors and warnings
    seen from the reload on (the login page's missing favicon is not the chart page's business)."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, path)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.reload()
    page.wait_for_function(
        f"window.serialtraceCharts && Object.keys(window.serialtraceCharts.charts).length === {charts}")
    return page, problems


def focused(page) -> str:
    """The id of the element that has the keyboard focus."""
    return page.evaluate("document.activeElement && document.activeElement.id")


def wait_focused(page, element_id: str) -> None:
    """Wait until the element `element_id` has the keyboard focus (the page's script gives it after parsing)."""
    page.wait_for_function("id => document.activeElement && document.activeElement.id === id", arg=element_id)


def tab_to(page, element_id: str, *, limit: int = 40, back: bool = False) -> None:
    """Press Tab (Shift+Tab when `back`) until the element `element_id` has focus, as a keyboard user would."""
    for _ in range(limit):
        if focused(page) == element_id:
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def take_case(page, base: str, case_id: int) -> None:
    """On the test queue: Tab to the case's Take button and press Enter; its page opens on the first step."""
    tab_to(page, f"take-{case_id}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/cases/{case_id}")
    assert focused(page) == "step-0"


def confirm_defect(page) -> None:
    """With the verdict focused: ArrowDown picks a confirmed defect, then Tab and Enter record the test."""
    page.keyboard.press("ArrowDown")
    assert page.input_value("#verdict") == "confirmed_defect"
    tab_to(page, "submit-test")
    page.keyboard.press("Enter")
    page.wait_for_selector("#records article.test-record")
    assert page.get_attribute("#case-state", "data-state") == "tested"
