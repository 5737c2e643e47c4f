"""The claim-rates page before anything ships: both tables say so (the demo's outlier is in tests/quality)."""

from __future__ import annotations


def test_the_page_says_when_nothing_was_shipped(login, make_batch, session):
    make_batch(quantity=2)
    session.commit()
    page = login("quality").get("/quality/batches").get_data(as_text=True)
    assert page.count("No shipped units yet.") == 2 and 'id="quality-settings"' in page
    assert login("supervisor").get("/quality/batches").status_code == 200
    assert login("engineer").get("/quality/batches.csv").status_code == 403


def test_the_tables_show_the_first_rows_and_all_of_them_on_request(login, make_batch, session, monkeypatch):
    from datetime import date

    from serialtrace.trace import service as trace_service
    from serialtrace.web.ui import quality

    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    for n in range(3):
        _, serials = make_batch(quantity=2, number=f"2501A0{n}")
        trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials)
    session.commit()
    monkeypatch.setattr(quality, "TABLE_ROWS", 2)
    client = login("quality")
    page = client.get("/quality/batches").get_data(as_text=True)
    table = page.split('id="quality-batches"')[1].split("</table>")[0]
    assert table.count("<tr") == 3  # the heading and two rows
    assert "The first 2 of 3 rows" in page and "all=1" in page
    # The chart has every row all the same.
    assert all(f"2501A0{n} (PR-100)" in page for n in range(3))
    everything = client.get("/quality/batches?all=1").get_data(as_text=True)
    assert everything.split('id="quality-batches"')[1].split("</table>")[0].count("<tr") == 4
    assert "The first 2 of" not in everything
