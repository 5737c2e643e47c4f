"""Product shelf life: the expiry date it gives, the service's checks, and revision 0007."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text

from serialtrace.db import make_engine
from serialtrace.errors import ValidationError
from serialtrace.migrate import alembic_config, upgrade
from serialtrace.trace import service
from serialtrace.trace.models import Product
from serialtrace.trace.policy import expiry_date


@pytest.mark.parametrize(("produced", "months", "expires"), [
    (date(2025, 3, 14), 24, date(2027, 3, 14)),
    (date(2025, 1, 31), 1, date(2025, 2, 28)),   # a month end clamps to the earlier day, never into March
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
    (date(2025, 3, 14), None, None),
])
def test_the_expiry_date_is_the_production_date_plus_the_shelf_life(produced, months, expires):
    assert expiry_date(produced, months) == expires


def test_a_product_keeps_its_shelf_life(session):
    p = service.add_product(session, sku="GA-450", name="Gas analyser", gtin="04601234560016", shelf_life_months=18)
    session.flush()
    assert session.get(Product, p.id).shelf_life_months == 18
    plain = service.add_product(session, sku="UR-100", name="Flow meter")
    assert plain.shelf_life_months is None


@pytest.mark.parametrize("months", [0, -1, 121, 2.5, True, "12"])
def test_a_shelf_life_out_of_range_is_refused_and_nothing_is_added(session, months):
    before = session.scalar(select(func.count()).select_from(Product))
    with pytest.raises(ValidationError) as info:
        service.add_product(session, sku="GA-450", name="Gas analyser", shelf_life_months=months)
    assert info.value.details == {"field": "shelf_life_months"}
    assert "shelf life must be 1 to 120 months, or none" in info.value.message
    assert session.scalar(select(func.count()).select_from(Product)) == before


def test_the_shelf_life_can_be_set_and_cleared(session, product):
    assert service.set_product_shelf_life(session, product, months=6) == (None, 6)
    assert service.set_product_shelf_life(session, product, months=None) == (6, None)
    with pytest.raises(ValidationError):
        service.set_product_shelf_life(session, product, months=500)
    assert product.shelf_life_months is None


def test_downgrade_drops_the_shelf_life_and_upgrade_brings_it_back_empty(fresh_db_url):
    engine = make_engine(fresh_db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO product (sku, name, family, warranty_months, warranty_start, test_procedure,"
                          " shelf_life_months, created_at) VALUES ('P1', 'Meter', '', 24, 'shipment', '', 18,"
                          " '2025-01-01')"))
        conn.execute(text("INSERT INTO batch (product_id, number, produced_on, line, shift, quantity, status, notes,"
                          " serial_scheme, created_at) VALUES (1, 'B1', '2025-01-01', '', '', 5, 'released', '', '',"
                          " '2025-01-01')"))
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert "shelf_life_months" not in {c["name"] for c in inspect(engine).get_columns("product")}
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sku, shelf_life_months FROM product")).one() == ("P1", None)
        assert conn.execute(text("SELECT count(*) FROM batch")).scalar_one() == 1
    engine.dispose()
