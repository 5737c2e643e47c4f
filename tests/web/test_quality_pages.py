"""The claim-rates page before anything ships: both tables say so (the demo's outlier is in tests/quality)."""

from __future__ import annotations


def test_the_page_says_when_nothing_was_shipped(login, make_batch, session):
    make_batch(quantity=2)
    session.commit()
    page = login("quality").get("/quality/batches").get_data(as_text=True)
    assert page.count("No shipped units yet.") == 2 and 'id="quality-settings"' in page
    assert login("supervisor").get("/quality/batches").status_code == 200
    assert login("engineer").get("/quality/batches.csv").status_code == 403
