"""What a scan names beyond units and batches (claims, component lots, GTINs), ambiguous readings checked against
the database, earlier scans of the same thing, the scan log's reads and the facts behind the signal."""

from __future__ import annotations

from datetime import date, timedelta

from serialtrace.columns import utcnow
from serialtrace.station import queries, service
from serialtrace.trace import service as trace_service
from serialtrace.warranty.models import Claim

GTIN = "04601234560016"
LOT = trace_service.LotInput(supplier="Микрон", part="MCU board", lot_number="L-77")


def test_a_lot_number_names_the_component_lot_once_whatever_its_suppliers(session, make_batch):
    make_batch(quantity=1, number="2501A00", inputs=[LOT])
    make_batch(quantity=1, number="2501A01", inputs=[trace_service.LotInput("Other", "Sensor", "L-77")])
    [match] = queries.resolve(session, text=" L-77 ")
    assert (match.kind, match.batch) == ("lot", "L-77")
    assert match.label == "lot L-77 · MCU board · Микрон, Sensor · Other"
    # A supplier's GS1 label: their GTIN is not ours, and its (10) is the lot.
    assert [m.kind for m in queries.resolve(session, gtin="09506000134352", batch="L-77")] == ["lot"]
    assert queries.resolve(session, gtin="09506000134352", batch="NO-LOT") == []


def test_a_gtin_alone_names_its_product_as_gs1_data_or_as_typed_digits(session, make_batch):
    make_batch(quantity=1)
    assert [(m.kind, m.product_sku) for m in queries.resolve(session, gtin=GTIN)] == [("product", "PR-100")]
    for typed in (GTIN, GTIN[1:]):
        assert [(m.kind, m.product_sku) for m in queries.resolve(session, text=typed)] == [("product", "PR-100")]
    answer = service.scan_payload(session, "4601234560016", station="d")
    assert (answer["result"], answer["parsed"]["kind"]) == ("product", "ean")
    assert queries.resolve(session, text="4601234560023") == []


def test_a_claim_number_names_the_claim_with_its_units_serial(session, make_batch):
    _, serials = make_batch(quantity=1)
    unit = queries.resolve(session, text=serials[0])[0]
    session.add(Claim(number="C-2025-0007", unit_id=unit.id))
    session.flush()
    [match] = queries.resolve(session, text="C-2025-0007")
    assert match.as_dict() == {"kind": "claim", "id": match.id, "label": "claim C-2025-0007", "serial": serials[0],
                               "product_sku": "PR-100", "number": "C-2025-0007"}


def test_an_ambiguous_reading_offers_the_readings_that_match(session, user, make_batch):
    _, serials = make_batch(quantity=1, number="2501A00")
    # (01)(21)(10) with the separator after the serial dropped: (21) may run to the end, or stop before "10".
    answer = service.scan_payload(session, f"01{GTIN}21{serials[0]}102501A00", station="d", user=user)
    assert answer["result"] == "ambiguous" and len(answer["alternatives"]) > 1
    assert [(m["kind"], m["serial"]) for m in answer["matches"]] == [("unit", serials[0])]
    assert answer["message"] == "the scan can be read more than one way; 1 of the readings match: choose one"
    nothing = service.scan_payload(session, f"01{GTIN}21NOSUCH1102501A00", station="d", user=user)
    assert nothing["result"] == "ambiguous" and nothing["matches"] == []
    assert "scan again with separators" in nothing["message"]


def test_a_scan_says_when_the_same_unit_was_scanned_here_before_and_by_whom(session, user, make_batch):
    _, serials = make_batch(quantity=1)
    t0 = utcnow()
    first = service.scan_payload(session, serials[0], station="desk-1", user=user, now=t0)
    assert first["previous"] is None
    # The same unit by its GS1 label a minute later: another code, the same unit.
    again = service.scan_payload(session, f"]d201{GTIN}21{serials[0]}", station="desk-1", user=user,
                                 now=t0 + timedelta(minutes=1))
    assert again["result"] == "unit"
    assert again["previous"] == {"at": t0.isoformat(), "station": "desk-1", "result": "unit", "user": "desk"}
    # Another station has not had it; a double pull says it was a repeat within the second.
    assert service.scan_payload(session, serials[0], station="desk-2", user=user, now=t0)["previous"] is None
    pull = service.scan_payload(session, serials[0], station="desk-1", user=user, now=t0 + timedelta(seconds=0.5))
    assert pull["result"] == "repeat" and pull["previous"]["at"] == t0.isoformat()
    missing = service.scan_payload(session, "NOPE-1", station="desk-1", user=user, now=t0)
    again = service.scan_payload(session, "NOPE-1", station="desk-1", user=user, now=t0 + timedelta(seconds=5))
    assert missing["previous"] is None and again["previous"]["result"] == "not_found"


def test_recent_scans_and_the_log_filter_by_station_user_result_and_time(session, user, make_batch):
    _, serials = make_batch(quantity=2, number="2501A00")
    t0 = utcnow() - timedelta(hours=2)
    for i, (code, station) in enumerate([(serials[0], "desk-1"), ("NOPE", "desk-1"), (serials[1], "desk-2"),
                                         ("2501A00", "desk-1")]):
        service.scan_payload(session, code, station=station, user=user, now=t0 + timedelta(minutes=i))
    recent = queries.list_recent_scans(session, station="desk-1", user=user)
    assert [(r["raw"], r["result"], r["serial"], r["batch"]) for r in recent] == [
        ("2501A00", "batch", None, "2501A00"), ("NOPE", "not_found", None, None),
        (serials[0], "unit", serials[0], "2501A00")]
    assert recent[0]["user"] == "desk" and recent[0]["product_sku"] == "PR-100"
    where = queries.ScanFilter
    assert [r["raw"] for r in queries.list_scans(session, where(result="unit"))] == [serials[1], serials[0]]
    assert [r["raw"] for r in queries.list_scans(session, where(station="desk-2", username="desk"))] == [serials[1]]
    assert queries.list_scans(session, where(username="nobody")) == []
    window = where(since=t0 + timedelta(minutes=1), until=t0 + timedelta(minutes=3))
    assert [r["raw"] for r in queries.list_scans(session, window)] == [serials[1], "NOPE"]
    assert [r["raw"] for r in queries.list_scans(session, where(), offset=1, limit=2)] == [serials[1], "NOPE"]
    assert len(list(queries.iter_scans(session, where()))) == 4


def test_the_facts_behind_the_signal_are_what_was_found(session, make_batch):
    batch, serials = make_batch(quantity=1, number="2501A00")
    customer = trace_service.get_or_create_customer(session, name="МУП «Горсети»")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials)
    [unit] = queries.resolve(session, text=serials[0])
    facts = queries.scan_facts(session, unit.as_dict(), today=date(2025, 6, 1))
    assert facts["warranty"]["status"] == "in_warranty" and facts["batch"]["status"] == "released"
    batch.status = "on_hold"
    session.add(Claim(number="C-1", unit_id=unit.id, state="triage"))
    session.flush()
    [claim] = queries.resolve(session, text="C-1")
    facts = queries.scan_facts(session, claim.as_dict(), today=date(2028, 1, 1))
    assert facts["claim"] == {"number": "C-1", "state": "triage"} and facts["warranty"]["status"] == "expired"
    assert queries.scan_facts(session, {"kind": "batch", "id": batch.id}, today=date(2025, 6, 1)) == {
        "batch": {"id": batch.id, "number": "2501A00", "status": "on_hold"}}
    assert queries.scan_facts(session, {"kind": "lot", "id": 1}, today=date(2025, 6, 1)) == {}
