"""The station and a dossier in Russian, in Debian's headless Chromium with a Russian browser; a screenshot of each."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.config import business_today
from serialtrace.trace import service

from .live import live_app, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app with one shipped unit whose batch has a component lot."""
    lots = [service.LotInput("ООО «ЭлКомп»", "плата", "L71033")]
    with live_app(tmp_path_factory.mktemp("i18n-browser") / "app.sqlite", lots=lots,
                  ship_first=True) as (base, serials, rt):
        yield base, serials, rt


def test_a_russian_browser_gets_the_station_and_the_dossier_in_russian(live_server, browser, tmp_path):
    base, serials, rt = live_server
    context = browser.new_context(locale="ru-RU", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    login(page, base)
    assert page.get_attribute("html", "lang") == "ru"
    assert "Отсканируйте или введите" in page.inner_text("body")
    page.keyboard.type(serials[0], delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#dossier")
    text = page.inner_text("#dossier")
    assert "Отгружено клиенту" in text and "shipped" not in text.split()  # a label, never the stored code
    warranty = ("на гарантии до 14.03.2027 (отгружено 14.03.2025, 24 мес.)"
                if business_today(rt.settings) <= date(2027, 3, 14)
                else "гарантия закончилась 14.03.2027 (отгружено 14.03.2025, 24 мес.)")
    assert warranty in text and "МУП «Горсети»" in text
    page.screenshot(path=str(tmp_path / "station-ru.png"), full_page=True)
    # A code that matches nothing: the answer in Russian, the code kept for correction.
    page.keyboard.type("НЕТ-42", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result[data-result=not_found]")
    assert "Не найдено" in page.inner_text("#scan-result")
    assert page.input_value("#code") == "НЕТ-42"
    context.close()


def test_the_language_switch_keeps_english_for_a_russian_browser(live_server, browser, tmp_path):
    base, serials, _ = live_server
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    login(page, base, "/account/password")
    # Keyboard only: the select takes the choice, the button sends it.
    page.focus("#language-choice")
    page.select_option("#language-choice", "en")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("p.flash.ok")
    assert "Language saved." in page.inner_text("p.flash.ok")
    page.goto(f"{base}/units/{serials[0]}")
    assert page.get_attribute("html", "lang") == "en" and "Shipped to customer" in page.inner_text("#dossier")
    page.screenshot(path=str(tmp_path / "dossier-en.png"), full_page=True)
    context.close()
