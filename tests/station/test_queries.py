"""Resolving what a scan names to units, batches and claims, and finding logged scans, on a real database."""

from __future__ import annotations

from datetime import timedelta

from serialtrace.columns import utcnow
from serialtrace.station import queries, service
from serialtrace.trace import service as trace_service
from serialtrace.warranty.models import Claim

GTIN = "04601234560016"


def test_a_serial_resolves_to_its_unit_with_batch_and_product(session, make_batch):
    _, serials = make_batch(quantity=2, number="2501A00")
    [match] = queries.resolve(session, gtin=GTIN, serial=serials[1])
    assert (match.kind, match.serial, match.batch, match.product_sku) == ("unit", serials[1], "2501A00", "PR-100")
    assert match.as_dict() == {"kind": "unit", "id": match.id, "label": f"PR-100 {serials[1]}",
                               "serial": serials[1], "batch": "2501A00", "product_sku": "PR-100"}


def test_an_unknown_gtin_matches_nothing_even_for_a_known_serial(session, make_batch):
    _, serials = make_batch(quantity=1)
    assert queries.resolve(session, gtin="09506000134352", serial=serials[0]) == []


def test_free_text_lists_every_unit_batch_and_claim_it_can_mean(session, make_batch, scheme):
    batch, serials = make_batch(quantity=1, number="2501A00")
    # Another product's batch with the same number: the station lists both, it never picks one.
    trace_service.add_product(session, sku="PR-200", name="Flow meter UR-200")
    trace_service.register_batch(session, product="PR-200", quantity=1, number="2501A00", scheme=scheme,
                                 produced_on=batch.produced_on)
    assert [(m.kind, m.product_sku) for m in queries.resolve(session, text=" 2501A00 ")] == [
        ("batch", "PR-100"), ("batch", "PR-200")]
    unit = queries.resolve(session, text=serials[0])[0]
    session.add(Claim(number="C-2025-0001", unit_id=unit.id))
    session.flush()
    assert [(m.kind, m.label) for m in queries.resolve(session, text="C-2025-0001")] == [
        ("claim", "claim C-2025-0001")]
    assert queries.resolve(session, text="NOTHING") == [] and queries.resolve(session) == []


def test_a_recent_scan_is_found_per_station_and_for_unnamed_clients_per_user(session, user, make_batch):
    _, serials = make_batch(quantity=1)
    now = utcnow()
    service.scan_payload(session, serials[0], station="desk-1", user=user, now=now)
    service.scan_payload(session, serials[0], station="", user=user, now=now)
    since = now - timedelta(seconds=1)
    assert queries.find_recent_scan(session, raw=serials[0], station="desk-1", since=since).station == "desk-1"
    assert queries.find_recent_scan(session, raw=serials[0], station="desk-2", since=since) is None
    assert queries.find_recent_scan(session, raw=serials[0], station="", since=since, user=user) is not None
    assert queries.find_recent_scan(session, raw=serials[0], station="", since=since, user=None) is None
    assert queries.find_recent_scan(session, raw=serials[0], station="desk-1",
                                    since=now + timedelta(seconds=1)) is None
