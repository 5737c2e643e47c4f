"""Pages and API answers in the reader's language: their setting, else the browser's, else English."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from serialtrace.accounts.models import User
from serialtrace.trace import service

from .conftest import csrf_from

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}


def _language_of(session, username):
    session.expire_all()
    return session.scalars(select(User.language).where(User.username == username)).one()


def _set_language(client, language):
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    return client.post("/account/language", data={"language": language, "csrf_token": token})


def test_without_a_setting_the_browser_language_decides(login):
    client = login("warehouse")
    assert "Станция сканирования" in client.get("/station", headers=RU).get_data(as_text=True)
    assert "Scanning station" in client.get("/station", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)


def test_a_browser_language_we_do_not_have_is_english(login):
    html = login("warehouse").get("/station", headers={"Accept-Language": "de-DE,fr;q=0.8"}).get_data(as_text=True)
    assert "Scanning station" in html and '<html lang="en">' in html


def test_the_users_setting_wins_over_the_browser(login, session):
    client = login("warehouse")
    resp = _set_language(client, "ru")
    assert resp.status_code == 302 and _language_of(session, "warehouse") == "ru"
    html = client.get("/station", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "Станция сканирования" in html and '<html lang="ru">' in html
    # Empty follows the browser again.
    assert _set_language(client, "").status_code == 302 and _language_of(session, "warehouse") is None
    assert "Scanning station" in client.get("/station", headers={"Accept-Language": "en-US"}).get_data(as_text=True)


def test_an_unknown_language_is_refused_and_changes_nothing(login, session):
    client = login("warehouse")
    _set_language(client, "ru")
    resp = _set_language(client, "klingon")
    assert resp.status_code == 422
    # The refusal is in the language the user still has.
    assert "неизвестный язык 'klingon'" in unescape(resp.get_data(as_text=True))
    assert _language_of(session, "warehouse") == "ru"


def test_an_unknown_stored_setting_falls_back_to_english(login, session):
    client = login("warehouse")
    user = session.scalars(select(User).where(User.username == "warehouse")).one()
    user.language = "xx"  # a hand-edited row, or a language whose catalog was removed
    session.commit()
    html = client.get("/station", headers=RU).get_data(as_text=True)
    assert "Scanning station" in html and '<html lang="en">' in html


def test_the_language_switch_needs_the_form_token(login, session):
    resp = login("warehouse").post("/account/language", data={"language": "ru"})
    assert resp.status_code == 400 and _language_of(session, "warehouse") is None


def test_a_russian_dossier_shows_labels_and_dates_in_russian(login, make_batch, session):
    _, serials = make_batch(quantity=2, number="2501A00")
    customer = service.get_or_create_customer(session, name="МУП «Горсети»", tax_id="5401234567")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials[:1])
    session.commit()
    client = login("warehouse")
    html = client.get(f"/units/{serials[0]}", headers=RU).get_data(as_text=True)
    assert "Отгружено клиенту" in html and ">shipped<" not in html  # the status label, not its code
    assert "Гарантия" in html and "на гарантии до 14.03.2027 (отгружено 14.03.2025, 24 мес.)" in html
    assert "14.03.2025" in html  # the shipment date, day first
    english = client.get(f"/units/{serials[0]}").get_data(as_text=True)
    assert "in warranty until 2027-03-14 (shipped 2025-03-14, 24 months)" in english
    assert "Shipped to customer" in english


def test_a_domain_error_from_a_service_is_shown_in_russian(login, users):
    client = login("warehouse")
    resp = client.get("/units/NOPE-1", headers=RU)
    assert resp.status_code == 404
    assert "нет изделия с серийным номером 'NOPE-1'" in unescape(resp.get_data(as_text=True))
    english = client.get("/units/NOPE-1")
    assert english.status_code == 404 and "no unit with serial 'NOPE-1'" in unescape(english.get_data(as_text=True))


def test_api_errors_follow_the_browser_language_and_english_stays_the_default(api):
    caller = api("warehouse")
    english = caller.get("/api/v1/units/NOPE-2")
    assert english.status_code == 404 and english.get_json()["message"] == "no unit with serial 'NOPE-2'"
    russian = caller.client.get("/api/v1/units/NOPE-2", headers={**caller.headers, **RU})
    assert russian.get_json()["message"] == "нет изделия с серийным номером 'NOPE-2'"
    assert russian.get_json()["error"] == "not_found"  # codes stay codes


def test_a_scan_error_from_the_pure_scanner_is_shown_in_russian(login, users):
    client = login("warehouse")
    token = csrf_from(client.get("/station").get_data(as_text=True))
    html = client.post("/station", data={"code": "]C1" + "0104601234560017", "csrf_token": token},
                       headers=RU).get_data(as_text=True)
    assert "(01) контрольная цифра 7, а должна быть 6" in html


@pytest.mark.parametrize(("language", "word"), [("ru", "Пароль"), ("en", "Password")])
def test_flashed_service_messages_are_translated(login, language, word):
    client = login("warehouse")
    page = client.get("/account/password", headers={"Accept-Language": language}).get_data(as_text=True)
    resp = client.post("/account/password", headers={"Accept-Language": language}, data={
        "current_password": "x", "new_password": "short", "confirm_password": "short", "csrf_token": csrf_from(page)})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    expected = {"ru": "пароль слишком короткий: нужно не меньше 10 символов (в этом 5)",
                "en": "password too short: it needs at least 10 characters (this one has 5)"}[language]
    assert expected in html and word in html


def test_the_scan_api_answers_its_messages_in_the_callers_language(api, users):
    caller = api("warehouse")
    english = caller.post("/api/v1/scans", json={"code": "NOPE-3"})
    assert english.get_json()["message"] == "nothing found for NOPE-3"
    russian = caller.client.post("/api/v1/scans", json={"code": "NOPE-4"}, headers={**caller.headers, **RU})
    body = russian.get_json()
    assert body["message"] == "ничего не найдено по коду NOPE-4" and body["result"] == "not_found"
