"""Phones and tablets in Debian's Chromium: every page fits 360 and 390 px without sideways scrolling, the header
collapses behind a menu button that works without scripts, tables read as cards, touch targets are 44 px high."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from serialtrace.accounts import service as accounts_service
from serialtrace.labelling import service as labelling_service
from serialtrace.station import service as station_service
from serialtrace.trace import queries as trace_queries
from serialtrace.trace import service
from serialtrace.trace.models import Product

from .live import live_app, login

pytestmark = pytest.mark.browser

PHONES = (360, 390)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """An admin's view of an app holding a shipped unit, a second user, a token, a calibrated station, a print job."""
    lots = [service.LotInput("Shenzhen PCB Co.", "board", "L71033")]
    with live_app(tmp_path_factory.mktemp("phone") / "app.sqlite", lots=lots, ship_first=True,
                  role="admin") as (base, serials, rt):
        with rt.transaction() as s:
            bob = accounts_service.create_user(s, username="bob", role="warehouse", password="desk-pass-2x",
                                               display_name="Борис Складской", email="bob@example.com")
            accounts_service.create_token(s, name="erp-1c", user=bob)
            station_service.save_station_profile(s, name="desk-1", profile={"prefix": "]C1", "suffix": "",
                                                                            "separator": "\x1d", "layout": "ru"})
            service.add_product(s, sku="PR-200-LONG-ARTICLE-NUMBER", name="Теплосчётчик с очень длинным названием",
                                gtin=None, warranty_months=36, family="heat")
            product_id = s.query(Product).filter_by(sku="PR-100").one().id
            service.register_batch(s, product="PR-100", quantity=2, number="2502B00", produced_on=date(2025, 2, 3),
                                   scheme=rt.serial_scheme())
            # A printer job (never run here): the widest row of the labels page, with its reprint form.
            labelling_service.create_print_job(s, settings=replace(rt.settings, printers="127.0.0.1:9100"),
                                               batch=trace_queries.get_batch(s, "2501A00"), template="roll-50x25",
                                               printer="127.0.0.1:9100")
        yield base, serials, {"serial": serials[0], "number": "2501A00", "user_id": 1, "product_id": product_id,
                              "sku": "PR-100", "pages.lot": {"number": "L71033"}}


def _phone(browser, base, width: int, *, scripts: bool = True):
    context = browser.new_context(viewport={"width": width, "height": 780}, device_scale_factor=1, has_touch=True,
                                  is_mobile=True, java_script_enabled=scripts)
    page = context.new_page()
    login(page, base)
    return context, page


def _pages(base: str, samples: dict) -> list[str]:
    """Every page of the app a person opens, from the url map: sample values fill the rules' parameters."""
    from serialtrace.web import create_app

    app = create_app({"database_url": "sqlite://", "secret_key": "map", "serial_key": "k"})
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "pages.index") or rule.rule.startswith("/api/"):
            continue
        values = {**samples, **samples.get(rule.endpoint, {})}
        if rule.rule.endswith((".png", ".csv", ".pdf", ".zpl")) or not set(rule.arguments) <= set(values):
            continue
        urls.append(re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, v=values: str(v[m.group(1)]), rule.rule))
    extra = [f"/units?q={samples['serial'][:3]}", "/batches?q=25", "/labels?batch=2501A00&product=PR-100",
             "/no-such-page"]
    return sorted(set(urls)) + extra


# Elements wider than the screen, named so a failure says what to fix.
_OVERFLOW = """() => {
  const w = window.innerWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 0.5) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
      ' right=' + Math.round(r.right));
  }
  return out.slice(0, 8);
}"""

# Visible controls lower than 44 px (the visually hidden menu checkbox is operated through its label).
_SMALL_TARGETS = """() => {
  const out = [];
  for (const el of document.querySelectorAll(
      'button, a.button, input:not([type=hidden]):not(.menu-toggle), select, label.menu-button, header nav a, ' +
      'nav.admin-sections a')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.height < 43.5) out.push((el.name || el.textContent.trim() || el.tagName).slice(0, 30) + ' ' +
                                  Math.round(r.height) + 'px');
  }
  return out;
}"""


def test_every_page_fits_a_phone_without_sideways_scrolling(live_server, browser):
    base, _, samples = live_server
    pages = _pages(base, samples)
    assert {"/admin/users/1", f"/units/{samples['serial']}", "/labels", "/lots/L71033", "/products/PR-100",
            "/scans"} <= set(pages)
    for width in PHONES:
        context, page = _phone(browser, base, width)
        page.keyboard.type(samples["serial"], delay=2)
        page.keyboard.press("Enter")
        page.wait_for_selector("#dossier")
        visited = [("/station (a scanned unit)", page)]
        wide, missing_labels = [], []
        for url in pages:
            page.goto(base + url)
            visited.append((url, page))
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                wide.append((url, page.evaluate(_OVERFLOW)))
            # A cell without its column's name would be an unlabelled line on the card.
            unlabelled = page.evaluate("document.querySelectorAll('main td:not([data-label])').length")
            if unlabelled:
                missing_labels.append((url, unlabelled))
        assert wide == [], f"pages wider than {width} px: {wide}"
        assert missing_labels == [], f"table cells without data-label: {missing_labels}"
        context.close()


def test_touch_targets_are_44_px_and_tables_are_cards(live_server, browser):
    base, _, samples = live_server
    context, page = _phone(browser, base, 390)
    small = []
    for url in ("/station", "/admin/users", "/admin/tokens", "/admin/products", "/labels?batch=2501A00",
                f"/units/{samples['serial']}", "/batches", "/import", "/account/password"):
        page.goto(base + url)
        page.click("label.menu-button")
        small += [(url, target) for target in page.evaluate(_SMALL_TARGETS)]
    assert small == [], f"touch targets under 44 px: {small}"
    page.goto(base + "/admin/users")
    row = page.locator("#users tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    cell = page.locator("#users tbody tr td").first
    assert cell.evaluate("c => getComputedStyle(c, '::before').content") == '"User name"'
    context.close()


@pytest.mark.parametrize("scripts", [True, False], ids=["with-js", "without-js"])
def test_the_header_collapses_behind_a_menu_button(live_server, browser, scripts):
    base, _, _ = live_server
    context, page = _phone(browser, base, 390, scripts=scripts)
    page.goto(base + "/batches")
    assert page.is_visible("label.menu-button")
    assert not page.is_visible("header nav.pages a[href='/admin']")
    page.click("label.menu-button")
    assert page.is_visible("header nav.pages a[href='/admin']")
    page.click("header nav.pages a[href='/admin']")
    page.wait_for_url(f"{base}/admin")
    assert page.inner_text("h1") == "Admin"
    context.close()


@pytest.mark.parametrize("scripts", [True, False], ids=["with-js", "without-js"])
def test_the_menu_opens_by_keyboard(live_server, browser, scripts):
    # With scripts on, the header scan field catches typed keys: Space on the menu toggle must still press it.
    base, _, _ = live_server
    context, page = _phone(browser, base, 390, scripts=scripts)
    page.goto(base + "/batches")
    page.focus("#menu-toggle")
    page.keyboard.press("Space")
    assert page.is_visible("header nav.pages a[href='/units']")
    context.close()


def test_desktop_shows_the_menu_without_a_button(live_server, browser):
    base, _, _ = live_server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    login(page, base)
    assert not page.is_visible("label.menu-button")
    assert page.is_visible("header nav.pages a[href='/admin']")
    assert page.evaluate("getComputedStyle(document.querySelector('#users, table') || document.body).display") \
        in ("table", "block")
    page.close()


def test_screenshots_at_390_px(live_server, browser, tmp_path_factory):
    """The station with a dossier, a dossier, the labels page and an admin page, as a phone shows them."""
    base, _, samples = live_server
    folder = tmp_path_factory.mktemp("screenshots-390")
    context, page = _phone(browser, base, 390)
    page.keyboard.type(samples["serial"], delay=2)
    page.keyboard.press("Enter")
    page.wait_for_selector("#dossier")
    shots = {"station": None, "dossier": f"/units/{samples['serial']}", "labels": "/labels?batch=2501A00",
             "admin-users": "/admin/users", "admin-menu": "/admin/products"}
    for name, url in shots.items():
        if url:
            page.goto(base + url)
        if name == "admin-menu":
            page.click("label.menu-button")
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5000
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
    print(f"screenshots in {folder}")
