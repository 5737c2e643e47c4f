"""Guards that hold for every view: a role check on each, and database errors that never become a 500."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from serialtrace.db import is_sqlite
from serialtrace.errors import Conflict
from serialtrace.trace.models import Product
from serialtrace.web.database import commit, db

# Views anyone may reach: the login itself, the redirect to it, static files, the API description and the customer's
# survey link (its signed token is the proof).
UNGUARDED = {"auth.login", "auth.logout", "pages.index", "static", "api.openapi", "survey.survey",
             "survey.survey_answer"}


def test_every_view_checks_the_role(app):
    unguarded = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                        if not hasattr(app.view_functions[rule.endpoint], "required_roles")} - UNGUARDED)
    assert unguarded == [], f"wrap these views in @requires(...): {unguarded}"


def test_the_allow_list_names_real_views(app):
    assert UNGUARDED <= set(app.view_functions)


def _route_that_stores_an_out_of_range_value(app):
    """A POST view whose statement the database refuses as a DataError, as a too long or NUL value would be."""

    def store():
        if is_sqlite(db()):
            # SQLite stores any length and any integer, so its driver never raises this; build the same error.
            raise DataError("INSERT INTO product ...", {}, ValueError("value too long for type character varying(32)"))
        db().execute(text("SELECT CAST(:n AS SMALLINT)"), {"n": 99999})
        return "stored"

    store.required_roles = ()
    app.add_url_rule("/test-store", "test_store", store, methods=["POST"])
    app.view_functions["test_store"] = store


@pytest.mark.parametrize(("accept", "json"), [("text/html", False), ("application/json", True)])
def test_a_value_the_database_refuses_is_422_not_500(app, login, caplog, accept, json):
    _route_that_stores_an_out_of_range_value(app)
    app.config["WTF_CSRF_ENABLED"] = False
    client = login("warehouse")
    with caplog.at_level(logging.INFO):
        resp = client.post("/test-store", headers={"Accept": accept})
    assert resp.status_code == 422
    message = "a value is too long or out of range; nothing was changed"
    if json:
        assert resp.get_json() == {"error": "invalid_value", "message": message, "details": None}
    else:
        html = resp.get_data(as_text=True)
        assert message in html and "warehouse (Warehouse)" in html  # the header names the role by its label
    assert "database refused a value on /test-store" in caplog.text
    # The session was rolled back: the next request on the same client works.
    assert client.get("/units?q=1").status_code == 200


def test_a_uniqueness_failure_is_a_conflict_without_driver_text(app, session, product, caplog):
    session.commit()
    with app.test_request_context("/", method="POST"), caplog.at_level(logging.INFO, logger="serialtrace.db"):
        db().add(Product(sku=product.sku, name="the same SKU again"))
        with pytest.raises(Conflict) as caught:
            commit()
    assert caught.value.message == "conflicts with existing data"
    assert caught.value.details is None
    assert "integrity error:" in caplog.text and "sku" in caplog.text.lower()


def test_the_transaction_helper_hides_driver_text_too(runtime, product, session):
    session.commit()
    with pytest.raises(Conflict) as caught:
        with runtime.transaction() as s:
            s.add(Product(sku=product.sku, name="the same SKU again"))
    assert str(caught.value) == "conflicts with existing data" and caught.value.details is None
    assert isinstance(caught.value.__cause__, IntegrityError)
