"""ERP CSV import: the sample exports, encodings and delimiters, row validation and the all-or-nothing rule."""

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, ImportFailed, ValidationError
from serialtrace.trace import importer, queries, service
from serialtrace.trace.importer import import_file
from serialtrace.trace.models import Batch, BatchInput, ComponentLot, Customer, Product, Shipment, ShipmentItem, Unit

from tests.paths import ERP_EXPORTS

SAMPLES = ERP_EXPORTS


def _sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample ERP export {path} is not available")
    return path.read_bytes()


def _counts(session) -> dict[str, int]:
    tables = (Product, Batch, Unit, ComponentLot, BatchInput, Customer, Shipment, ShipmentItem)
    counts = {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in tables}
    counts["shipped"] = session.scalar(select(func.count()).select_from(Unit).where(Unit.status == "shipped"))
    return counts


def _import(session, scheme, data: bytes, kind: str | None = None, **kw):
    return import_file(session, data=data, kind=kind, scheme=scheme, **kw)


def _errors(exc_info) -> list[dict]:
    return exc_info.value.details["errors"]


# --- the sample files --------------------------------------------------------------------------------

def test_sample_products_in_windows_1251_import(session, scheme):
    report = _import(session, scheme, _sample("products.csv"))
    assert report.kind == "products" and report.products == 5
    assert report.summary() == "imported 5 products"
    meter = queries.get_product(session, "ПР-210")
    assert (meter.name, meter.gtin, meter.warranty_months) == ("Счётчик тепла СТ-210", "04601234560023", 36)


def test_sample_products_in_utf8_with_english_headers_import(session, scheme):
    report = _import(session, scheme, _sample("products-utf8.csv"))
    assert report.products == 5
    assert queries.get_product(session, "PR-450").warranty_months == 12
    assert queries.get_product(session, "04601234560054").sku == "PR-500"


def test_sample_batches_import_with_serials_and_board_lots(session, scheme):
    _import(session, scheme, _sample("products.csv"))
    progress = []
    report = _import(session, scheme, _sample("batches.csv"),
                     progress=lambda done, total: progress.append((done, total)))
    assert (report.kind, report.batches, report.units) == ("batches", 12, 5500)
    assert report.summary() == "imported 12 batches with 5,500 units"
    assert progress[-1] == (12, 12)
    batch = queries.get_batch(session, "2503D03", sku="ПР-450")
    assert (batch.produced_on, batch.line, batch.quantity) == (date(2025, 3, 23), "Линия 2", 500)
    lot = queries.get_component_lot(session, "L90472")
    assert (lot.supplier, lot.part) == ("Shenzhen PCB Co.", "board")
    assert session.scalar(select(BatchInput.batch_id).where(BatchInput.component_lot_id == lot.id)) == batch.id
    assert _counts(session)["unit"] == 5500
    elkomp = session.scalars(select(ComponentLot.supplier).where(ComponentLot.lot_number == "L77096")).one()
    assert elkomp == "ООО «ЭлКомп»"


def test_sample_shipments_import_grouped_by_document_date_and_customer(session, scheme):
    _import(session, scheme, _sample("products.csv"))
    _import(session, scheme, _sample("batches.csv"))
    report = _import(session, scheme, _sample("shipments.csv"))
    counts = _counts(session)
    assert report.rows == 40 and report.shipped_units == 100
    assert counts["shipped"] == 100 and counts["shipment_item"] == 100
    assert counts["shipment"] == report.shipments
    assert counts["customer"] == report.customers_created == 5
    gorseti = session.scalars(select(Customer).where(Customer.tax_id == "5401234567")).one()
    assert gorseti.name == "МУП «Горсети»"
    first = session.scalars(select(Shipment).where(Shipment.reference == "РТУ-001000",
                                                   Shipment.shipped_on == date(2025, 3, 16))).one()
    assert (first.customer_id, first.carrier) == (gorseti.id, "Деловые линии")
    assert session.scalar(select(func.count()).select_from(ShipmentItem)
                          .where(ShipmentItem.shipment_id == first.id)) == 4
    assert report.summary().startswith(f"imported {report.shipments} shipments of 100 units")


def test_sample_bad_shipments_report_their_four_bad_lines_and_import_nothing(session, scheme):
    _import(session, scheme, _sample("products.csv"))
    _import(session, scheme, _sample("batches.csv"))
    before = _counts(session)
    with pytest.raises(ImportFailed, match="4 bad rows in shipments file; nothing was imported") as exc:
        _import(session, scheme, _sample("shipments-bad.csv"))
    errors = _errors(exc)
    assert [e["line"] for e in errors] == [3, 4, 5, 6]
    assert "31.02.2025" in errors[0]["reason"] and "calendar date" in errors[0]["reason"]
    assert "unknown article 'ПР-999'" in errors[1]["reason"]
    assert "-3" in errors[2]["reason"] and "positive" in errors[2]["reason"]
    assert "unknown batch 'NO-SUCH-BATCH'" in errors[3]["reason"]
    assert _counts(session) == before


# --- encodings, delimiters, quotes, headers -----------------------------------------------------------

def test_utf8_with_bom_comma_delimiter_crlf_and_quotes(session, scheme):
    text = ('\ufeffSKU , Name,GTIN,Warranty_Months\r\n'
            'A-1,"Датчик «Альфа», модель 2",04601234560016,12\r\n'
            'A-2,"Valve ""V2""",,\r\n')
    report = _import(session, scheme, text.encode("utf-8"))
    assert report.products == 2
    assert queries.get_product(session, "A-1").name == "Датчик «Альфа», модель 2"
    valve = queries.get_product(session, "A-2")
    assert (valve.name, valve.gtin, valve.warranty_months) == ('Valve "V2"', None, 24)


def test_russian_headers_match_regardless_of_case_and_spaces(session, scheme):
    text = "  АРТИКУЛ ;наименование; gtin ;ГАРАНТИЯ,  МЕС.\r\nПР-1;Счётчик;;18\r\n"
    report = _import(session, scheme, text.encode("cp1251"))
    assert report.products == 1 and queries.get_product(session, "ПР-1").warranty_months == 18


def test_iso_dates_and_thousands_separators_are_accepted(session, scheme, product):
    text = "batch,sku,produced_on,quantity\nB-ISO,PR-100,2025-02-28,1 200\n"
    report = _import(session, scheme, text.encode())
    assert report.units == 1200
    assert queries.get_batch(session, "B-ISO").produced_on == date(2025, 2, 28)


def test_explicit_kind_that_does_not_match_the_header_names_missing_columns(session, scheme):
    with pytest.raises(ImportFailed, match="lacks the column") as exc:
        _import(session, scheme, _sample("products.csv"), kind="batches")
    assert _errors(exc)[0]["line"] == 1


def test_unknown_header_is_rejected(session, scheme):
    with pytest.raises(ImportFailed, match="unknown header"):
        _import(session, scheme, b"foo;bar;baz\r\n1;2;3\r\n")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"  \r\n\r\n", "empty"),
    ("Артикул;Наименование;GTIN\r\n".encode("cp1251"), "no data rows"),
    (b"sku;name\r\n\x00\x01\x02PK", "binary"),
    (b"sku;name\r\n\x98\x98;x\r\n", "neither UTF-8 nor Windows-1251"),
])
def test_unreadable_files_are_rejected_clearly(session, scheme, data, message):
    with pytest.raises(ImportFailed, match=message):
        _import(session, scheme, data)


def test_file_over_the_size_limit_is_rejected(session, scheme, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    with pytest.raises(ImportFailed, match="import limit"):
        _import(session, scheme, b"sku;name\r\n" + b"A;b\r\n" * 30)


def test_unknown_kind_is_a_validation_error(session, scheme):
    with pytest.raises(ValidationError, match="unknown import kind"):
        _import(session, scheme, b"sku;name\nA;b\n", kind="units")


# --- row validation ----------------------------------------------------------------------------------

def test_every_bad_product_row_is_reported_with_its_line(session, scheme, product):
    text = ("sku;name;gtin;warranty_months\n"
            "OK-1;Good;;24\n"
            ";No article;;24\n"
            "BAD-GTIN;Bad gtin;04601234560017;24\n"
            "BAD-M;Bad months;;many\n"
            "OK-1;Duplicate;;24\n"
            "PR-100;Existing;;24\n"
            "\n"
            "TOO-LONG;Months;;300\n")
    before = _counts(session)
    with pytest.raises(ImportFailed, match="6 bad rows in products file") as exc:
        _import(session, scheme, text.encode())
    reasons = {e["line"]: e["reason"] for e in _errors(exc)}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 9]
    assert "article is missing" in reasons[3]
    assert "check digit" in reasons[4]
    assert "not a whole number" in reasons[5]
    assert "already appears on line 2" in reasons[6]
    assert "already exists" in reasons[7]
    assert "at most 240" in reasons[9]
    assert _counts(session) == before


def test_bad_batch_rows_are_collected(session, scheme, product):
    text = ("Серия;Артикул;Дата производства;Количество;Поставщик платы;Партия платы\n"
            "B1;PR-100;13.01.2025;0;;\n"
            "B2;PR-100;13.01.2025;abc;;\n"
            "B3;NOPE;13.01.2025;5;;\n"
            "B4;PR-100;;5;;\n"
            "B5;PR-100;13.01.2025;5;;L1\n"
            "B6;PR-100;13.01.2025;5;;\n"
            "B6;PR-100;14.01.2025;5;;\n"
            "Серия 7;PR-100;13.01.2025;5;;\n")
    with pytest.raises(ImportFailed) as exc:
        _import(session, scheme, text.encode("cp1251"))
    reasons = {e["line"]: e["reason"] for e in _errors(exc)}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 8, 9]
    assert "positive" in reasons[2] and "whole number" in reasons[3]
    assert "unknown article" in reasons[4] and "production date is missing" in reasons[5]
    assert "needs a board supplier" in reasons[6] and "line 7" in reasons[8] and "batch number" in reasons[9]
    assert _counts(session)["batch"] == 0


def test_shipment_asking_for_more_than_the_stock_is_reported_on_its_line(session, scheme, make_batch):
    make_batch(quantity=3, number="B1")
    text = ("document;date;customer;tax_id;sku;batch;quantity\n"
            "D1;01.02.2025;Acme;7701234567;PR-100;B1;2\n"
            "D2;02.02.2025;Acme;7701234567;PR-100;B1;2\n"
            "D3;02.02.2025;Acme;77012;PR-100;B1;1\n")
    before = _counts(session)
    with pytest.raises(ImportFailed, match="2 bad rows") as exc:
        _import(session, scheme, text.encode())
    assert _errors(exc) == [{"line": 3, "reason": "batch B1 has 1 units left, 2 asked"},
                            {"line": 4, "reason": "tax id '77012' must be 10 or 12 digits"}]
    assert _counts(session) == before


# --- all or nothing ----------------------------------------------------------------------------------

def test_a_failure_while_writing_names_its_line_and_rolls_back_every_row(session, scheme, make_batch, monkeypatch):
    make_batch(quantity=10, number="B1")
    make_batch(quantity=10, number="B2")
    text = ("document;date;customer;sku;batch;quantity\n"
            "D1;01.02.2025;Acme;PR-100;B1;2\n"
            "D2;01.02.2025;Acme;PR-100;B1;1\n"
            "D2;01.02.2025;Acme;PR-100;B2;3\n")
    real = service.create_shipment
    calls = []

    def flaky(session, **kw):
        calls.append(kw["reference"])
        if kw["reference"] == "D2":
            raise Conflict("batch B2 was put on hold by someone else")
        return real(session, **kw)

    monkeypatch.setattr(service, "create_shipment", flaky)
    before = _counts(session)
    with pytest.raises(ImportFailed, match="line 4 of the shipments file failed") as exc:
        _import(session, scheme, text.encode())
    assert calls == ["D1", "D2"]
    assert _errors(exc) == [{"line": 4, "reason": "batch B2 was put on hold by someone else"}]
    # The first shipment was written and then undone with the rest: the session is usable and unchanged.
    assert _counts(session) == before


def test_batch_conflict_while_writing_rolls_back_earlier_batches(session, scheme, product, monkeypatch):
    real = service.register_batch

    def flaky(session, **kw):
        if kw["number"] == "B2":
            raise Conflict("a serial of this batch already exists; nothing was registered")
        return real(session, **kw)

    monkeypatch.setattr(service, "register_batch", flaky)
    text = "batch;sku;produced_on;quantity\nB1;PR-100;01.01.2025;4\nB2;PR-100;01.01.2025;4\n"
    with pytest.raises(ImportFailed) as exc:
        _import(session, scheme, text.encode())
    assert _errors(exc)[0]["line"] == 3
    assert _counts(session)["unit"] == 0 and queries.find_batch(session, "B1") is None


# --- dates that cannot be real -------------------------------------------------------------------------------

TODAY = date(2026, 12, 2)


def test_placeholder_and_far_production_dates_refuse_the_whole_batches_file(session, scheme, product):
    text = ("Серия;Артикул;Дата производства;Количество\n"
            "B1;PR-100;13.01.2025;2\n"
            "B2;PR-100;31.12.9999;2\n"
            "B3;PR-100;01.01.0001 0:00:00;2\n"
            "B4;PR-100;00.00.0000;2\n"
            "B5;PR-100;1989-12-31;2\n"
            "B6;PR-100;03.12.2027;2\n"
            "B7;PR-100;02.12.2027;2\n")
    before = _counts(session)
    with pytest.raises(ImportFailed, match="5 bad rows in batches file; nothing was imported") as exc:
        _import(session, scheme, text.encode("cp1251"), today=TODAY)
    assert _errors(exc) == [
        {"line": 3, "reason": "production date 9999-12-31 (produced_on) is an ERP placeholder for 'no date', "
                              "not a real date: send the real production date"},
        {"line": 4, "reason": "production date 0001-01-01 (produced_on) is an ERP placeholder for 'no date', "
                              "not a real date: send the real production date"},
        {"line": 5, "reason": "production date '00.00.0000' is an ERP placeholder for 'no date', not a real date: "
                              "send the real production date"},
        {"line": 6, "reason": "production date 1989-12-31 (produced_on) is outside the accepted range 1990-01-01 "
                              "to 2027-12-02 (one year after today)"},
        {"line": 7, "reason": "production date 2027-12-03 (produced_on) is outside the accepted range 1990-01-01 "
                              "to 2027-12-02 (one year after today)"},
    ]
    assert _counts(session) == before


def test_placeholder_shipment_date_refuses_the_whole_shipments_file(session, scheme, make_batch):
    make_batch(quantity=5, number="B1")
    text = ("document;date;customer;sku;batch;quantity\n"
            "D1;01.02.2025;Acme;PR-100;B1;1\n"
            "D2;31.12.9999;Acme;PR-100;B1;1\n"
            "D3;01.01.1900;Acme;PR-100;B1;1\n")
    before = _counts(session)
    with pytest.raises(ImportFailed, match="2 bad rows in shipments file") as exc:
        _import(session, scheme, text.encode(), today=TODAY)
    assert [e["line"] for e in _errors(exc)] == [3, 4]
    assert _errors(exc)[0]["reason"].startswith("shipment date 9999-12-31 (shipped_on) is an ERP placeholder")
    assert _errors(exc)[1]["reason"].endswith("send the real shipment date")
    assert _counts(session) == before


# --- hostile files -------------------------------------------------------------------------------------------

LONG = 131_072 + 1


@pytest.mark.parametrize("text, line", [
    # One quoted field longer than the csv module's field limit.
    ('sku;name\nA-1;Ok\nA-2;"' + "x" * LONG + '"\n', 3),
    # A quote opened and never closed swallows the rest of the file into one field.
    ('sku;name\nA-1;"unclosed\n' + "A-2;b\n" * 30_000, 2),
    # The header line itself.
    ("sku;" + "n" * LONG + "\nA-1;b\n", 1),
])
def test_a_field_over_the_csv_limit_names_its_line_and_imports_nothing(session, scheme, text, line):
    before = _counts(session)
    with pytest.raises(ImportFailed) as exc:
        _import(session, scheme, text.encode())
    assert exc.value.message == (
        f"line {line}: a field is longer than 131,072 characters; no column of an export is that long (a quote "
        f"opened and never closed joins the following lines into one field); nothing was imported")
    assert exc.value.details == {"errors": [], "line": line} and exc.value.status_code == 422
    assert importer.detect_kind(b"sku;name\nA;b\n") == "products"
    assert _counts(session) == before


def test_a_nul_byte_far_down_the_file_is_binary_data_on_its_line(session, scheme):
    text = "sku;name\n" + "".join(f"A-{i};name {i}\n" for i in range(10_000)) + "A-X;b\x00c\n"
    before = _counts(session)
    with pytest.raises(ImportFailed, match=r"not a text CSV export: line 10002 holds binary data "
                                           r"\(control character '\\x00'\); nothing was imported"):
        _import(session, scheme, text.encode())
    assert _counts(session) == before


@pytest.mark.parametrize("data, message", [
    (b"sku;name\r\nA;ok\r\nB;\x98\r\n", r"the file is neither UTF-8 nor Windows-1251 text \(byte 0x98 on line 3\)"),
    (b"\xef\xbb\xbfsku;name\nA;\xff\n", r"not UTF-8 text despite its byte order mark \(byte 0xFF on line 2\)"),
    (b"\xff\xfes\x00k\x00\x00\xd8", r"not UTF-16 text despite its byte order mark"),
])
def test_text_in_no_known_encoding_names_the_byte_and_line(session, scheme, data, message):
    with pytest.raises(ImportFailed, match=message):
        _import(session, scheme, data)
