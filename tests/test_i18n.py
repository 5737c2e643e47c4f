"""The translation marker below web: English text that keeps its id and parameters, and the enum label tables."""

from __future__ import annotations

import pickle
import re
from enum import StrEnum
from gettext import NullTranslations

import pytest

from serialtrace.accounts.enums import ROLE_LABELS, Role
from serialtrace.errors import NotFound
from serialtrace.i18n import Message, _l, _n, coded
from serialtrace.labelling.enums import PRINT_JOB_STATE_LABELS, PrintJobState
from serialtrace.scanner import ScanError, parse_scan
from serialtrace.station.enums import SCAN_RESULT_LABELS, ScanResult
from serialtrace.trace.enums import (
    BATCH_STATUS_LABELS,
    EVENT_KIND_LABELS,
    UNIT_STATUS_LABELS,
    WARRANTY_START_LABELS,
    BatchStatus,
    EventKind,
    UnitStatus,
    WarrantyStart,
)
from serialtrace.warranty.enums import (
    CLAIM_STATE_LABELS,
    DISPOSITION_LABELS,
    PRIORITY_LABELS,
    UNIT_CASE_STATE_LABELS,
    VERDICT_LABELS,
    ClaimState,
    Disposition,
    Priority,
    UnitCaseState,
    Verdict,
)


class Shouting(NullTranslations):
    """A catalog that upper-cases every template, so a test sees which parts were translated."""

    def gettext(self, message):
        return re.sub(r"%\(\w+\)[sr]|[^%]+", lambda m: m.group() if m.group().startswith("%(") else m.group().upper(),
                      message)

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural) + "!"


def test_a_message_reads_as_its_english_text_and_keeps_id_and_parameters():
    message = _l("no unit with serial %(serial)r", serial="SN-1")
    assert message == "no unit with serial 'SN-1'" and str(message) == "no unit with serial 'SN-1'"
    assert message.msgid == "no unit with serial %(serial)r" and message.params == {"serial": "SN-1"}
    assert message.render(Shouting()) == "NO UNIT WITH SERIAL 'SN-1'"


def test_a_domain_error_carries_the_message_and_str_is_english():
    exc = NotFound("no unit with serial %(serial)r", serial="SN-2")
    assert str(exc) == exc.message == "no unit with serial 'SN-2'"
    assert exc.message.msgid == "no unit with serial %(serial)r"
    marked = NotFound(_l("no batch %(number)r", number="B1"))
    assert marked.message.params == {"number": "B1"}


def test_messages_inside_messages_are_translated_and_counts_pick_their_form():
    rows = _n("%(count)s bad row", "%(count)s bad rows", 3)
    message = _l("%(rows)s in %(kind)s file", rows=rows, kind="batches")
    assert message == "3 bad rows in batches file"
    assert message.render(Shouting()) == "3 BAD ROWS! IN batches FILE"  # plain parameters stay as given
    assert _n("%(count)s bad row", "%(count)s bad rows", 1) == "1 bad row"


def test_codes_read_as_codes_in_english_and_as_labels_when_translated():
    status = coded("in_stock", UNIT_STATUS_LABELS)
    assert status == "in_stock" and status.render(NullTranslations()) == "in_stock"
    assert status.render(Shouting()) == "IN STOCK"
    assert coded(["released", "recalled"], BATCH_STATUS_LABELS).render(Shouting()) == "RELEASED, RECALLED"


def test_a_translation_with_a_wrong_placeholder_shows_the_english_instead_of_failing():
    class Broken(NullTranslations):
        def gettext(self, message):
            return "oops %(nothing)s"

    assert _l("no unit with serial %(serial)r", serial="X").render(Broken()) == "no unit with serial 'X'"


def test_messages_survive_pickling_as_worker_processes_send_them():
    for message in (_l("a %(x)s", x=1), _n("%(count)s unit", "%(count)s units", 2),
                    coded("shipped", UNIT_STATUS_LABELS)):
        back = pickle.loads(pickle.dumps(message))
        assert back == message and type(back) is type(message)
        assert back.render(Shouting()) == message.render(Shouting())


def test_the_pure_scanner_raises_marked_messages():
    with pytest.raises(ScanError) as caught:
        parse_scan("]C1" + "0104601234560017")
    assert isinstance(caught.value.message, Message)
    assert caught.value.message.msgid == "(%(ai)s) check digit is %(found)s, expected %(expected)s"


@pytest.mark.parametrize(("enum", "table"), [
    (Role, ROLE_LABELS), (PrintJobState, PRINT_JOB_STATE_LABELS), (ScanResult, SCAN_RESULT_LABELS),
    (BatchStatus, BATCH_STATUS_LABELS), (UnitStatus, UNIT_STATUS_LABELS), (EventKind, EVENT_KIND_LABELS),
    (WarrantyStart, WARRANTY_START_LABELS), (ClaimState, CLAIM_STATE_LABELS), (Verdict, VERDICT_LABELS),
    (Priority, PRIORITY_LABELS), (UnitCaseState, UNIT_CASE_STATE_LABELS), (Disposition, DISPOSITION_LABELS),
])
def test_every_enum_value_has_a_marked_label(enum: type[StrEnum], table):
    assert set(table) == {member.value for member in enum}
    assert all(isinstance(label, Message) for label in table.values())
