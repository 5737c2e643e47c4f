"""The console script end to end on a real SQLite file: JSON shapes of DESIGN.md and clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from serialtrace.cli import main


@pytest.fixture
def run(fresh_cli):
    """The console script on a fresh initialised SQLite file."""
    return fresh_cli


def test_batch_create_json_and_lookup(run):
    assert run("products", "add", "--sku", "PR-100", "--name", "Flow meter", "--gtin", "04601234560016").exit_code == 0
    out = run("batch", "create", "--product", "PR-100", "--quantity", "5", "--number", "2501A00", "--json")
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert set(body) == {"batch", "quantity", "first_serial", "last_serial"}
    assert body["batch"] == "2501A00" and body["quantity"] == 5
    dossier = json.loads(run("lookup", body["first_serial"], "--json").output)
    assert dossier["unit"]["serial"] == body["first_serial"] and dossier["batch"]["number"] == "2501A00"
    gs1 = json.loads(run("lookup", f"(01)04601234560016(21){body['last_serial']}", "--json").output)
    assert gs1["unit"]["serial"] == body["last_serial"]


def test_unknown_serial_exits_1_with_one_line(run):
    result = run("lookup", "NOPE")
    assert result.exit_code == 1
    assert "no unit with serial 'NOPE'" in result.output
    assert "Traceback" not in result.output


def test_duplicate_batch_exits_1(run):
    run("products", "add", "--sku", "PR-1", "--name", "x")
    assert run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B1").exit_code == 0
    result = run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B1")
    assert result.exit_code == 1 and "already exists" in result.output


def test_users_and_tokens(run):
    added = run("users", "add", "anna", "--role", "warehouse", "--password-stdin", input="long-password\n")
    assert added.exit_code == 0
    bad = run("users", "add", "bob", "--role", "pilot", "--password-stdin", input="long-password\n")
    assert bad.exit_code == 1 and "unknown role" in bad.output
    token = run("tokens", "create", "anna").output.strip().splitlines()[-1]
    assert token.startswith("st_") and len(token) > 30


def test_ship_trace_and_recall_csv(run, tmp_path):
    run("products", "add", "--sku", "PR-1", "--name", "x")
    run("batch", "create", "--product", "PR-1", "--quantity", "4", "--number", "B7", "--lot", "Acme:board:L1")
    out = run("ship", "--customer", "ACME", "--tax-id", "5401234567", "--batch", "B7:3", "--date", "16.03.2025")
    assert out.exit_code == 0, out.output
    trace = json.loads(run("trace", "B7").output)
    assert trace["backward"]["inputs"][0]["lot"] == "L1"
    assert trace["forward"]["customers"][0]["quantity"] == 3
    path = tmp_path / "recall.csv"
    assert run("recall", "B7", "--csv", str(path)).exit_code == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4
    assert len(run("recall", "L1", "--lot").output.strip().splitlines()) == 4


def _error(result, line: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"error: {line}" in result.output
    assert "Traceback" not in result.output


def test_out_of_range_numbers_exit_1_with_one_line(run):
    run("products", "add", "--sku", "PR-1", "--name", "x")
    run("batch", "create", "--product", "PR-1", "--quantity", "2", "--number", "B7")
    _error(run("ship", "--customer", "ACME", "--batch", "B7:99999999999999999999999"),
           "--batch 'B7:99999999999999999999999': the quantity must be from 1 to 2147483647")
    _error(run("labels", "render", "--batch", "B7", "--format", "pdf", "--out", "x.pdf", "--from",
               "99999999999999999999"),
           "Invalid value for '--from': 99999999999999999999 is not in the range 0<=x<=2147483647.")
    _error(run("labels", "resume", "99999999999999999999"),
           "Invalid value for 'JOB_ID': 99999999999999999999 is not in the range 1<=x<=2147483647.")


def test_unwritable_output_exits_1_naming_the_path(run, tmp_path):
    run("products", "add", "--sku", "PR-1", "--name", "x")
    run("batch", "create", "--product", "PR-1", "--quantity", "2", "--number", "B7")
    _error(run("labels", "render", "--batch", "B7", "--format", "pdf", "--out", "/nonexistent/dir/x.pdf"),
           "cannot write /nonexistent/dir/x.pdf: No such file or directory")
    _error(run("recall", "B7", "--csv", "/nonexistent/x.csv"),
           "cannot write /nonexistent/x.csv: No such file or directory")
    assert run("labels", "jobs").output == ""


def test_bad_setting_in_the_environment_exits_1_naming_it(run, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_WARRANTY_GRACE_DAYS", "abc")
    _error(run("products", "list"), "SERIALTRACE_WARRANTY_GRACE_DAYS must be a whole number, not 'abc'")


def test_a_database_data_error_exits_1_with_one_line(run, monkeypatch):
    from sqlalchemy.exc import DataError

    from serialtrace.trace import queries

    def too_long(_session):
        raise DataError("SELECT", {}, Exception("value too long for type character varying(200)"))

    monkeypatch.setattr(queries, "list_products", too_long)
    _error(run("products", "list"), "a value is too long or out of range")


def test_lookup_of_a_gs1_scan_uses_the_gtin_when_two_products_share_a_serial(run):
    from serialtrace.runtime import Runtime
    from serialtrace.trace import queries
    from serialtrace.trace.models import Unit

    run("products", "add", "--sku", "PR-A", "--name", "Meter A", "--gtin", "04601234560016")
    run("products", "add", "--sku", "PR-B", "--name", "Meter B", "--gtin", "04601234560023")
    serial = json.loads(run("batch", "create", "--product", "PR-A", "--quantity", "1", "--number", "BA",
                            "--json").output)["first_serial"]
    run("batch", "create", "--product", "PR-B", "--quantity", "0", "--number", "BB")
    rt = Runtime.from_env()
    with rt.transaction() as s:
        other = queries.get_batch(s, "BB")
        s.add(Unit(product_id=other.product_id, batch_id=other.id, serial=serial))
    rt.engine.dispose()
    _error(run("lookup", serial), f"serial '{serial}' belongs to several products; scan the GTIN too")
    for gtin, sku in (("04601234560016", "PR-A"), ("04601234560023", "PR-B")):
        found = run("lookup", f"(01){gtin}(21){serial}", "--json")
        assert found.exit_code == 0, found.output
        assert json.loads(found.output)["product"]["sku"] == sku


def test_tokens_list_revoke_and_users_deactivate(run):
    run("users", "add", "anna", "--role", "warehouse", "--password-stdin", input="long-password\n")
    secret = run("tokens", "create", "anna").output.strip().splitlines()[-1]
    listing = run("tokens", "list").output
    assert listing.startswith(f"anna\tanna\t{secret[:10]}\t") and listing.rstrip().endswith("\tnever\tactive")
    assert secret not in listing
    revoked = run("tokens", "revoke", secret[:10])
    assert revoked.exit_code == 0 and f"token anna ({secret[:10]}...) revoked" in revoked.output
    assert run("tokens", "list").output.rstrip().endswith("\trevoked")
    _error(run("tokens", "revoke", "anna"), "no live API token named 'anna' or starting with it")
    assert run("users", "deactivate", "anna").exit_code == 0
    _error(run("users", "deactivate", "nobody"), "no user 'nobody'")


def test_token_for_a_new_name_warns_about_admin_rights(run):
    made = run("tokens", "create", "erp")
    assert made.exit_code == 0
    assert "created integration user erp with role admin" in made.output
    assert "warning: this token has full rights (role admin)" in made.output and "--role ROLE" in made.output
    assert made.output.strip().splitlines()[-1].startswith("st_")
    narrow = run("tokens", "create", "mes", "--role", "warehouse")
    assert narrow.exit_code == 0 and "warning" not in narrow.output
    assert "mes\tmes\t" in run("tokens", "list").output


def test_database_that_cannot_be_opened_is_one_line(monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    result = CliRunner().invoke(main, ["lookup", "X"])
    assert result.exit_code == 1
    assert "error: cannot use the database postgresql://postgres@127.0.0.1:1/nothing" in result.output
    assert "Traceback" not in result.output


def test_argument_that_is_not_utf8_is_one_line(run):
    result = run("products", "add", "--sku", "X1", "--name", "bad\udcff")
    assert result.exit_code == 1
    assert "error: an argument is not valid UTF-8 text" in result.output


def test_scan_of_a_truncated_png_reports_it_on_stdout_only(tmp_path):
    import io
    import subprocess
    import sys

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (100, 100), 255).save(buf, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buf.getvalue()[:70])
    done = subprocess.run([sys.executable, "-m", "serialtrace.cli", "scan", str(path), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == {"file": str(path), "codes": [],
                                       "error": "corrupt PNG image: cannot decode pixels"}
    assert done.stderr == ""


def _error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(("error:", "  line "))]


def test_lookup_of_a_unit_shipped_on_31_12_9999_prints_the_dossier(run):
    from datetime import date

    from serialtrace.runtime import Runtime
    from serialtrace.trace import queries, service
    from serialtrace.trace.models import Shipment, ShipmentItem

    run("products", "add", "--sku", "PR-1", "--name", "Meter")
    serial = json.loads(run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B9",
                            "--json").output)["first_serial"]
    # Written straight into the database, as rows from before dates were checked are.
    rt = Runtime.from_env()
    with rt.transaction() as s:
        unit = queries.get_unit(s, serial)
        customer = service.get_or_create_customer(s, name="ACME")
        shipment = Shipment(customer_id=customer.id, shipped_on=date(9999, 12, 31))
        s.add(shipment)
        s.flush()
        s.add(ShipmentItem(shipment_id=shipment.id, unit_id=unit.id, batch_id=unit.batch_id, quantity=1))
    rt.engine.dispose()
    reason = ("warranty cannot be computed: the shipment date 9999-12-31 is an ERP placeholder, not a real date; "
              "correct the shipment date")
    found = run("lookup", serial, "--json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["warranty"] == {"status": "unknown", "in_warranty": False, "until": None,
                                                    "start": "9999-12-31", "reason": reason}
    text = run("lookup", serial)
    assert text.exit_code == 0 and reason in text.output and "shipped 9999-12-31 to ACME" in text.output


def test_dates_outside_the_business_range_exit_1_with_one_line(run):
    run("products", "add", "--sku", "PR-1", "--name", "Meter")
    run("batch", "create", "--product", "PR-1", "--quantity", "2", "--number", "B1")
    shipped = run("ship", "--customer", "ACME", "--batch", "B1:1", "--date", "31.12.9999")
    _error(shipped, "shipment date 9999-12-31 (shipped_on) is an ERP placeholder for 'no date', not a real date: "
                    "send the real shipment date, or leave it empty (today's date is used)")
    assert len(_error_lines(shipped)) == 1
    _error(run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B2", "--produced-on",
               "1989-12-31"),
           "production date 1989-12-31 (produced_on) is outside the accepted range 1990-01-01 to ")
    trace = json.loads(run("trace", "B1").output)
    assert trace["forward"]["customers"] == [] and run("trace", "B2").exit_code == 1


def test_import_of_a_placeholder_date_names_the_line(run, tmp_path):
    run("products", "add", "--sku", "PR-1", "--name", "Meter")
    path = tmp_path / "batches.csv"
    path.write_bytes("Серия;Артикул;Дата производства;Количество\nB1;PR-1;31.12.9999;2\n".encode("cp1251"))
    result = run("import", str(path))
    _error(result, "1 bad row in batches file; nothing was imported")
    assert "  line 2: production date 9999-12-31 (produced_on) is an ERP placeholder" in result.output
    assert run("trace", "B1").exit_code == 1


def test_import_of_a_field_over_the_csv_limit_exits_1_with_one_line(run, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text('sku;name\nPR-2;"' + "x" * 200_000 + '"\n', encoding="utf-8")
    result = run("import", str(path))
    _error(result, "line 2: a field is longer than 131,072 characters; no column of an export is that long")
    assert len(_error_lines(result)) == 1
    assert run("products", "list").output == ""
