"""`serialtrace recall`: the unit status column, --exclude-returned, --group customer, files Excel opens."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from serialtrace.cli import main

from .web.dossier_data import RECALL_GORSETI, ship_for_recall


@pytest.fixture
def recall(runtime, session, make_batch):
    """`run(*args)`: the console script on the test's database, where batch 2503D03 is shipped and one unit back."""
    _, serials = make_batch(quantity=4, number="2503D03")
    ship_for_recall(session, serials)
    session.commit()

    def run(*args: str):
        return CliRunner().invoke(main, ["recall", "2503D03", *args], obj=runtime)

    return run, serials


def _rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


def test_recall_lists_the_status_and_marks_units_back(recall):
    run, serials = recall
    result = run()
    assert result.exit_code == 0, result.output
    # Standard output carries no byte order mark: it is piped into other programs.
    assert result.output.startswith("customer,")
    status = {r["serial"]: (r["status"], r["back_in_house"]) for r in _rows(result.output)}
    assert status == {serials[0]: ("shipped", "False"), serials[1]: ("returned", "True"),
                      serials[2]: ("shipped", "False")}


def test_exclude_returned_leaves_the_units_back_out(recall):
    run, serials = recall
    result = run("--exclude-returned")
    assert result.exit_code == 0, result.output
    assert sorted(r["serial"] for r in _rows(result.output)) == sorted([serials[0], serials[2]])


def test_group_customer_gives_one_row_per_customer(recall):
    run, serials = recall
    result = run("--group", "customer")
    assert result.exit_code == 0, result.output
    rows = {r["customer"]: r for r in _rows(result.output)}
    assert len(rows) == 2
    assert rows[RECALL_GORSETI["name"]]["serials"] == f"{serials[0]} {serials[1]}"
    assert rows[RECALL_GORSETI["name"]]["units"] == "2" and rows[RECALL_GORSETI["name"]]["back_in_house"] == "1"


def test_the_file_starts_with_the_bom_and_takes_semicolons(recall, tmp_path):
    run, serials = recall
    path = tmp_path / "recall.csv"
    result = run("--csv", str(path), "--delimiter", "semicolon", "--excel", "--exclude-returned")
    assert result.exit_code == 0, result.output
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = _rows(raw.decode("utf-8"), delimiter=";")
    assert {r["customer"] for r in rows} == {RECALL_GORSETI["name"], "ИП Смирнов А.В."}
    assert f'="{serials[0]}"' in {r["serial"] for r in rows}


@pytest.mark.parametrize("args, message", [
    (["--group", "serial"], "Invalid value for '--group'"),
    (["--delimiter", "tab"], "Invalid value for '--delimiter'"),
])
def test_an_unknown_option_value_is_refused_naming_the_option(recall, tmp_path, args, message):
    run, _ = recall
    path = tmp_path / "recall.csv"
    result = run(*args, "--csv", str(path))
    assert result.exit_code == 1 and f"error: {message}" in result.output
    assert not path.exists()
