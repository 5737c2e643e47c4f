"""Redraw docs/station.png: demo data in a fresh SQLite file, the app on a local port, a wedge scan in Chromium.

Usage, from the repository root (nothing else needed; the demo data and the server live in a temporary folder):
    .venv/bin/python docs/screenshot.py [--out docs/station.png] [--width 1280] [--height 1000]

The unit scanned is a shipped unit of the demo data with a claim and a test record, so the dossier shows a
customer, a claim and a test; the warehouse user scans it as a keyboard-wedge scanner would.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select

from serialtrace.runtime import Runtime
from serialtrace.trace.models import ShipmentItem, Unit
from serialtrace.warranty.models import Claim, TestRecord

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run",
                 "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serial_to_show(url: str) -> str:
    """A shipped demo unit with a claim and a test record, the same one for the same demo seed."""
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.read() as s:
            return s.scalars(
                select(Unit.serial).join(Claim, Claim.unit_id == Unit.id)
                .join(TestRecord, TestRecord.unit_id == Unit.id).where(Unit.id.in_(select(ShipmentItem.unit_id)))
                .order_by(Claim.opened_at.desc()).limit(1)).one()
    finally:
        rt.engine.dispose()


def main() -> None:
    """Load demo data, serve it, log in as the warehouse user, scan a unit and save the screenshot."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "station.png"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1000)
    args = ap.parse_args()
    serialtrace = str(Path(sys.executable).with_name("serialtrace"))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.sqlite"
        env = {**os.environ, "SERIALTRACE_DATABASE_URL": url, "SERIALTRACE_INSTANCE": tmp,
               "SERIALTRACE_SERIAL_KEY": "screenshot", "SERIALTRACE_TIMEZONE": "Europe/Moscow"}
        subprocess.run([serialtrace, "demo", "--units", "3000", "--seed", "7"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        serial = _serial_to_show(url)
        port = _free_port()
        server = subprocess.Popen([serialtrace, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": args.height}, locale="en-GB")
                page.goto(f"{base}/station")
                page.fill("input[name=username]", "warehouse")
                page.fill("input[name=password]", "demo-pass-2026")
                page.keyboard.press("Enter")
                page.wait_for_url("**/station")
                page.keyboard.type(serial)
                page.keyboard.press("Enter")
                page.wait_for_selector("#dossier")
                page.screenshot(path=args.out)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{args.out}: station with the dossier of {serial}, {args.width}x{args.height}")


if __name__ == "__main__":
    main()
