"""Unit search by serial or external code prefix: case-insensitive, wildcards literal, an index range scan."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from serialtrace.serials import PatternScheme
from serialtrace.trace import queries, service
from serialtrace.trace.models import Unit, search_key


def _serials(rows) -> list[str]:
    return [row[0].serial for row in rows]


def _add_unit(session, make_batch, serial: str, **kw) -> Unit:
    batch, _ = make_batch(quantity=0, number=f"X{abs(hash(serial)) % 10**8}")
    unit = Unit(product_id=batch.product_id, batch_id=batch.id, serial=serial, **kw)
    session.add(unit)
    session.flush()
    return unit


def test_search_key_upper_cases_one_character_for_one():
    assert search_key("sn-ab12") == "SN-AB12"
    assert search_key("ав-12") == "АВ-12"
    # ß has no one-character capital: it stays, so the key is as long as the serial and fits the column.
    assert search_key("straße") == "STRAßE"
    assert search_key("ﬁx") == "ﬁX"


def test_prefix_end_is_the_first_string_after_the_prefix():
    assert queries.prefix_end("AB") == "AC"
    assert queries.prefix_end("A\U0010ffff") == "B"
    assert queries.prefix_end("\U0010ffff") is None
    assert queries.prefix_end("A\ud7ff") == "A\ue000"


def test_registered_lower_case_serials_are_found_in_any_case(session, product):
    scheme = PatternScheme(pattern="{prefix}{seq:05d}", prefix="sn-")
    _, serials = service.register_batch(session, product=product, quantity=3, number="LOW1", scheme=scheme,
                                        produced_on=date(2025, 1, 13))
    assert serials == ["sn-00001", "sn-00002", "sn-00003"]
    keys = session.scalars(select(Unit.serial_key).where(Unit.serial.in_(serials)).order_by(Unit.serial)).all()
    assert keys == ["SN-00001", "SN-00002", "SN-00003"]
    assert _serials(queries.list_units(session, prefix="SN-0000")) == serials
    assert _serials(queries.list_units(session, prefix="sn-00002")) == ["sn-00002"]
    assert _serials(queries.list_units(session, prefix="Sn-")) == serials


def test_upper_case_serials_keep_their_key_and_are_found_by_lower_case(session, make_batch):
    _, serials = make_batch(quantity=3)
    keys = dict(session.execute(select(Unit.serial, Unit.serial_key).where(Unit.serial.in_(serials))).all())
    assert keys == {s: s for s in serials}
    _add_unit(session, make_batch, "ABC-1")
    assert _serials(queries.list_units(session, prefix="abc")) == ["ABC-1"]


def test_wildcards_and_backslash_in_the_search_are_plain_characters(session, make_batch):
    for serial in ("A_B1", "AXB1", "A%B2", "A\\B3"):
        _add_unit(session, make_batch, serial)
    assert _serials(queries.list_units(session, prefix="a_b")) == ["A_B1"]
    assert _serials(queries.list_units(session, prefix="A%")) == ["A%B2"]
    assert _serials(queries.list_units(session, prefix="a\\")) == ["A\\B3"]
    assert queries.list_units(session, prefix="%") == []
    assert queries.list_units(session, prefix="_") == []


def test_external_codes_are_searched_and_their_key_follows_a_change(session, make_batch):
    unit = _add_unit(session, make_batch, "S-1")
    assert queries.list_units(session, prefix="ext") == []
    unit.external_code = "ext-AB12"
    session.flush()
    assert session.scalar(select(Unit.external_key).where(Unit.id == unit.id)) == "EXT-AB12"
    assert _serials(queries.list_units(session, prefix="EXT-ab")) == ["S-1"]
    unit.external_code = None
    session.flush()
    assert queries.list_units(session, prefix="EXT-ab") == []


def test_results_come_in_serial_order_up_to_the_limit(session, make_batch):
    for serial in ("K3", "k1", "K2", "L1"):
        _add_unit(session, make_batch, serial)
    other = _add_unit(session, make_batch, "Z9", external_code="k0-tag")
    # Serial order ignoring case; the unit found by its external code takes its place by serial.
    assert _serials(queries.list_units(session, prefix="k")) == ["k1", "K2", "K3", other.serial]
    assert _serials(queries.list_units(session, prefix="K", limit=2)) == ["k1", "K2"]


def _plan(session, stmt) -> str:
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "sqlite":
        return "\n".join(str(row[-1]) for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # Seq scans and sorts off: on a small test table the planner would rightly read it whole and sort; this asks
    # whether the index *can* serve the range and the order, which is what a table of millions needs.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_sort = off"))
    try:
        return "\n".join(row[0] for row in session.execute(text("EXPLAIN " + sql)))
    finally:
        session.execute(text("SET LOCAL enable_seqscan = on"))
        session.execute(text("SET LOCAL enable_sort = on"))


@pytest.mark.parametrize("prefix", ["25", "sn-0", "A_%"])
def test_the_search_is_an_index_range_scan(session, make_batch, prefix):
    make_batch(quantity=20)
    by_serial, by_external = queries.unit_search_statements(prefix, 200)
    serial_plan, external_plan = _plan(session, by_serial), _plan(session, by_external)
    assert "ix_unit_serial_key" in serial_plan, serial_plan
    assert "ix_unit_external_key" in external_plan, external_plan
    for plan in (serial_plan, external_plan):
        assert "SCAN unit\n" not in plan + "\n" and "Seq Scan on unit" not in plan, plan
        # Rows come in index order: no sort of every match before the limit.
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
