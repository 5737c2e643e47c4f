"""Redraw docs/station.png: a demo database, the app on a local port, a wedge scan in headless Chromium.

Usage (from the repository root, with the app serving demo data on port 5077):
    SERIALTRACE_DATABASE_URL=sqlite:////tmp/shot/demo.sqlite .venv/bin/serialtrace demo --units 3000 --seed 7
    SERIALTRACE_DATABASE_URL=sqlite:////tmp/shot/demo.sqlite .venv/bin/serialtrace serve --port 5077 &
    .venv/bin/python docs/screenshot.py SERIAL
"""

import sys

from playwright.sync_api import sync_playwright


def main(serial: str, base: str = "http://127.0.0.1:5077") -> None:
    """Log in as the demo warehouse user, scan `serial`, save the screenshot."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--headless", "--no-sandbox", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{base}/station")
        page.fill("input[name=username]", "warehouse")
        page.fill("input[name=password]", "demo-pass-2026")
        page.keyboard.press("Enter")
        page.wait_for_url("**/station")
        page.keyboard.type(serial)
        page.keyboard.press("Enter")
        page.wait_for_selector("#dossier")
        page.screenshot(path="docs/station.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1])
