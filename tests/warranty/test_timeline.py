"""One timeline per claim: state changes, case steps, tests, replacements, comments, attachments and dispositions,
in order, with their authors; and the customer's part of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from serialtrace.columns import at_moment
from serialtrace.warranty import attachments, comments, dispositions, models, service, timeline

from .tested_case import TODAY, make_tested
from tests import images

START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def _step(n: int):
    return at_moment(START + timedelta(minutes=n))


def test_the_timeline_holds_every_kind_in_order_with_authors(session, make_batch, who, tmp_path):
    with _step(0):
        tested = make_tested(session, make_batch, who["warehouse"])
    claim, case = tested.claim, tested.case
    with _step(1):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=tested.serials[1],
                             author=who["warehouse"], today=TODAY)
    with _step(2):
        comments.add_comment(session, claim_id=claim.id, body="Replacement handed over.", visibility="customer",
                             author=who["warehouse"])
    with _step(3):
        session.add(models.TestRecord(unit_id=case.unit_id, claim_id=claim.id, case_id=case.id,
                                      verdict="confirmed_defect", failure_mode="seal_failure", notes="leaks at 6 bar",
                                      engineer_id=who["engineer"].id))
        session.flush()
    with _step(4):
        attachments.add_attachment(session, claim_id=claim.id, filename="leak.png",
                                   data=images.PNG, author=who["engineer"],
                                   folder=tmp_path, case_id=case.id)
    with _step(5):
        comments.add_comment(session, claim_id=claim.id, body="Seal batch S-17 suspect.", author=who["engineer"])
    with _step(6):
        record = dispositions.propose(session, case_id=case.id, kind="scrap", notes="housing cracked",
                                      author=who["engineer"])
    with _step(7):
        dispositions.decide(session, disposition_id=record.id, approve=True, reason="agreed", author=who["quality"])
    with _step(8):
        dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    entries = timeline.claim_timeline(session, claim.id)
    got = [(e["kind"], e.get("action") or e["to"] or "", e["author"]) for e in entries]
    assert got == [
        ("state_change", "registered", "warehouse"),
        ("case_state", "received", "warehouse"),
        # At one moment the claim's own rows come first.
        ("state_change", "triage", "warehouse"),
        ("state_change", "replacement_shipped", "warehouse"),
        ("state_change", "pending_verification", "system"),
        ("replacement", "", "warehouse"),
        ("comment", "", "warehouse"),
        ("test_record", "", "engineer"),
        ("attachment", "", "engineer"),
        ("comment", "", "engineer"),
        ("case_state", "disposition_pending", "engineer"),
        ("disposition", "proposed", "engineer"),
        ("disposition", "approved", "quality"),
        ("case_state", "disposed", "engineer"),
        ("disposition", "executed", "engineer"),
    ]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    by_kind = {e["kind"]: e for e in entries}
    assert (by_kind["replacement"]["returned_serial"], by_kind["replacement"]["replacement_serial"]) == (
        tested.serials[0], tested.serials[1])
    assert (by_kind["test_record"]["verdict"], by_kind["test_record"]["engineer"],
            by_kind["test_record"]["reason"]) == ("confirmed_defect", "engineer", "leaks at 6 bar")
    assert (by_kind["attachment"]["filename"], by_kind["attachment"]["content_type"],
            by_kind["attachment"]["case_id"]) == ("leak.png", "image/png", case.id)
    proposed = entries[11]
    assert (proposed["disposition"], proposed["reason"], proposed["needs_approval"], proposed["disposition_id"]) == (
        "scrap", "housing cracked", True, record.id)
    assert entries[12]["reason"] == "agreed"
    assert {e["kind"]: e for e in entries if e["kind"] == "comment"}["comment"]["body"] == "Seal batch S-17 suspect."
    # Every entry keeps the keys of a state change.
    assert all({"kind", "from", "to", "reason", "author", "at", "visibility"} <= set(e) for e in entries)

    shown = timeline.customer_visible(entries)
    assert [(e["kind"], e["to"] or e.get("body") or e.get("replacement_serial")) for e in shown] == [
        ("state_change", "registered"), ("state_change", "triage"), ("state_change", "replacement_shipped"),
        ("state_change", "pending_verification"), ("replacement", tested.serials[1]),
        ("comment", "Replacement handed over.")]


def test_a_rejected_disposition_shows_its_reason_and_a_claim_without_rows_has_its_first_step(session, make_batch,
                                                                                            who):
    tested = make_tested(session, make_batch, who["warehouse"])
    record = dispositions.propose(session, case_id=tested.case.id, kind="scrap", author=who["engineer"])
    dispositions.decide(session, disposition_id=record.id, approve=False, reason="repairable", author=who["quality"])
    last = timeline.claim_timeline(session, tested.claim.id)[-2:]
    assert {(e["kind"], e.get("action"), e["reason"], e["author"]) for e in last} == {
        ("case_state", None, "scrap rejected: repairable", "quality"),
        ("disposition", "rejected", "repairable", "quality")}
