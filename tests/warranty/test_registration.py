"""Independent registration on both databases: an account manager registering their own customer's complaint is
refused until they confirm (then it is flagged and logged); the daily report counts per person and channel in the
calendar's time zone and lists confirmations and stale drafts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.columns import at_moment
from serialtrace.errors import ValidationError
from serialtrace.trace import queries as trace_queries
from serialtrace.trace import service as trace_service
from serialtrace.warranty import reports, service
from serialtrace.warranty.calendars import default_calendar_row
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase
from serialtrace.warranty.registration import OwnCustomer

TODAY = date(2025, 6, 2)


@pytest.fixture
def desk(session, make_batch, who):
    """Four units shipped to Vodokanal, whose account manager is the coordinator."""
    _, serials = make_batch(quantity=4)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=TODAY)
    trace_service.set_account_manager(session, customer, username="coordinator")
    return {"serials": serials, "customer": customer}


def _counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Claim, UnitCase, ClaimEvent))


def test_the_account_manager_is_refused_with_409_and_nothing_is_stored(session, desk, who):
    before = _counts(session)
    with pytest.raises(OwnCustomer) as refused:
        service.register_claim(session, serial=desk["serials"][0], symptom="no_power", author=who["coordinator"],
                               today=TODAY)
    assert refused.value.status_code == 409 and refused.value.code == "own_customer"
    assert "account manager of Vodokanal" in str(refused.value.message)
    assert refused.value.details["resend"] == {"confirm_own_customer": True}
    assert _counts(session) == before


def test_a_confirmed_registration_is_flagged_with_a_timeline_row(session, desk, who):
    claim = service.register_claim(session, serial=desk["serials"][0], symptom="no_power", author=who["coordinator"],
                                   today=TODAY, confirm_own_customer=True).claim
    assert claim.own_customer_confirmed is True and claim.author_id == who["coordinator"].id
    events = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)).all()
    assert [(e.kind, e.author) for e in events] == [("state_change", "coordinator"), ("confirmation", "coordinator")]
    assert "account manager" in events[1].reason


def test_anyone_else_registers_without_a_warning_or_a_flag(session, desk, who):
    done = service.register_claim(session, serial=desk["serials"][0], symptom="no_power", author=who["warehouse"],
                                  today=TODAY)
    assert done.claim.own_customer_confirmed is False
    assert "own_customer" not in {w["code"] for w in done.warnings}
    # Confirming when there is nothing to confirm changes nothing either.
    other = service.register_claim(session, serial=desk["serials"][1], symptom="no_power", author=who["warehouse"],
                                   today=TODAY, confirm_own_customer=True).claim
    assert other.own_customer_confirmed is False


def _timeline(session, claim) -> list[tuple]:
    return [(e.kind, e.to_state, e.author) for e in session.scalars(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id))]


def test_registering_a_draft_asks_the_account_manager_to_confirm_and_records_the_registrar(session, desk, who):
    draft = service.register_claim(session, serial=desk["serials"][0], symptom="no_power", author=who["warehouse"],
                                   today=TODAY, draft=True).claim
    before = _counts(session)
    with pytest.raises(OwnCustomer) as refused:
        service.transition_claim(session, claim_id=draft.id, to="registered", author=who["coordinator"])
    assert refused.value.status_code == 409 and refused.value.details["resend"] == {"confirm_own_customer": True}
    session.expire_all()
    assert _counts(session) == before and draft.state == "draft" and draft.author_id == who["warehouse"].id
    done = service.transition_claim(session, claim_id=draft.id, to="registered", author=who["coordinator"],
                                    confirm_own_customer=True)
    # The registrar is the claim's author now; the draft's writer stays on the draft's timeline row.
    assert done.state == "registered" and done.author_id == who["coordinator"].id and done.own_customer_confirmed
    assert _timeline(session, done) == [("state_change", "draft", "warehouse"),
                                        ("state_change", "registered", "coordinator"),
                                        ("confirmation", None, "coordinator")]


def test_a_managers_draft_registered_by_a_colleague_is_not_flagged(session, desk, who):
    draft = service.register_claim(session, serial=desk["serials"][0], symptom="no_power", author=who["coordinator"],
                                   today=TODAY, draft=True, confirm_own_customer=True).claim
    done = service.transition_claim(session, claim_id=draft.id, to="registered", author=who["warehouse"])
    assert done.author_id == who["warehouse"].id and done.own_customer_confirmed is False
    # Cancelling a draft is no registration: nobody is asked, the author stays.
    other = service.register_claim(session, serial=desk["serials"][1], symptom="no_power", author=who["warehouse"],
                                   today=TODAY, draft=True).claim
    gone = service.transition_claim(session, claim_id=other.id, to="cancelled", author=who["coordinator"])
    assert gone.state == "cancelled" and gone.author_id == who["warehouse"].id


def test_account_managers_are_active_users_and_can_be_cleared(session, desk, who):
    customer = desk["customer"]
    assert trace_service.set_account_manager(session, customer, username="warehouse") == ("coordinator", "warehouse")
    with pytest.raises(ValidationError) as refused:
        trace_service.set_account_manager(session, customer, username="nobody")
    assert refused.value.details == {"field": "account_manager"}
    who["quality"].active = False
    with pytest.raises(ValidationError):
        trace_service.set_account_manager(session, customer, username="quality")
    assert customer.account_manager_id == who["warehouse"].id
    assert trace_service.set_account_manager(session, customer, username=None) == ("warehouse", None)
    assert customer.account_manager_id is None
    assert trace_queries.get_customer(session, "7701234567").id == customer.id
    assert trace_queries.get_customer(session, "Vodokanal").id == customer.id
    assert trace_queries.get_customer(session, str(customer.id)).id == customer.id


def _zone(session, name: str) -> str:
    row = default_calendar_row(session)
    row.timezone = name
    session.flush()
    return name


def test_the_report_counts_per_person_and_channel_within_the_calendars_day(session, desk, who):
    zone = _zone(session, "Europe/Moscow")  # UTC+3: 2 June in Moscow is 1 June 21:00 to 2 June 21:00 UTC
    moments = [(datetime(2025, 6, 1, 20, 59, tzinfo=UTC), "warehouse", "desk"),   # 1 June 23:59 Moscow
               (datetime(2025, 6, 1, 21, 0, tzinfo=UTC), "warehouse", "desk"),    # 2 June 00:00 Moscow
               (datetime(2025, 6, 2, 12, 0, tzinfo=UTC), "warehouse", "phone"),
               (datetime(2025, 6, 2, 20, 59, tzinfo=UTC), "supervisor", "desk"),  # 2 June 23:59 Moscow
               (datetime(2025, 6, 2, 21, 0, tzinfo=UTC), "supervisor", "desk")]   # 3 June
    for i, (moment, user, channel) in enumerate(moments):
        with at_moment(moment):
            service.register_claim(session, serial=desk["serials"][i % 4], symptom="no_power", author=who[user],
                                   channel=channel, today=moment.date())
    with at_moment(datetime(2025, 6, 2, 22, 0, tzinfo=UTC)):
        report = reports.registration_report(session, date(2025, 6, 2), timezone=zone, stale_hours=24)
    assert [(r["user"], r["channel"], r["count"]) for r in report["registered"]] == [
        ("supervisor", "desk", 1), ("warehouse", "desk", 1), ("warehouse", "phone", 1)]
    assert report["total"] == 3 and report["timezone"] == "Europe/Moscow"
    assert report["from"] == "2025-06-01T21:00:00+00:00"
    with at_moment(datetime(2025, 6, 2, 22, 0, tzinfo=UTC)):
        built = reports.daily_registration_report(session, "2025-06-01", fallback_timezone="UTC", stale_hours=24)
        today = reports.daily_registration_report(session, None, fallback_timezone="UTC", stale_hours=24)
    assert [(r["user"], r["count"]) for r in built["registered"]] == [("warehouse", 1)]
    assert today["day"] == "2025-06-03" and today["total"] == 1  # 01:00 on 3 June in Moscow


def test_the_report_lists_confirmations_and_stale_drafts_but_not_advanced_claims(session, desk, who):
    _zone(session, "UTC")
    start = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    with at_moment(start):
        own = service.register_claim(session, serial=desk["serials"][0], symptom="no_power", author=who["coordinator"],
                                     today=TODAY, confirm_own_customer=True).claim
        draft = service.register_claim(session, serial=desk["serials"][1], symptom="no_power",
                                       author=who["warehouse"], today=TODAY, draft=True).claim
        moved = service.register_claim(session, serial=desk["serials"][2], symptom="no_power",
                                       author=who["warehouse"], today=TODAY).claim
    with at_moment(start + timedelta(hours=1)):
        service.transition_claim(session, claim_id=moved.id, to="triage", author=who["coordinator"], today=TODAY)
    with at_moment(start + timedelta(hours=30)):
        fresh = service.register_claim(session, serial=desk["serials"][3], symptom="no_power",
                                       author=who["warehouse"], today=TODAY).claim
        report = reports.registration_report(session, TODAY, timezone="UTC", stale_hours=24)
        later = reports.registration_report(session, TODAY, timezone="UTC", stale_hours=48)
    assert [(r["number"], r["customer"], r["user"]) for r in report["own_customer"]] == [
        (own.number, "Vodokanal", "coordinator")]
    assert [(r["number"], r["state"], r["hours_open"]) for r in report["stale"]] == [
        (own.number, "registered", 30), (draft.number, "draft", 30)]
    assert fresh.number not in {r["number"] for r in report["stale"]}
    assert later["stale"] == []
    rows = reports.csv_rows(report)
    assert [r["section"] for r in rows] == ["registered", "registered", "own_customer", "stale", "stale"]


def test_a_draft_counts_on_the_day_it_is_registered_and_ages_from_then(session, desk, who):
    _zone(session, "UTC")
    day = datetime(2025, 6, 2, tzinfo=UTC)

    def at(hours: float, call, **kw):
        with at_moment(day + timedelta(hours=hours)):
            return call(session, **kw)

    def draft(serial: str, hours: float) -> Claim:
        return at(hours, service.register_claim, serial=serial, symptom="no_power", author=who["warehouse"],
                  today=TODAY, draft=True).claim

    late, kept = draft(desk["serials"][0], -64), draft(desk["serials"][1], -64)  # 30 May 08:00
    at(10, service.transition_claim, claim_id=late.id, to="registered", author=who["supervisor"])
    dropped = draft(desk["serials"][2], 9)
    at(9.5, service.transition_claim, claim_id=dropped.id, to="cancelled", author=who["warehouse"])
    direct = at(9, service.register_claim, serial=desk["serials"][3], symptom="no_power", author=who["warehouse"],
                channel="phone", today=TODAY).claim
    report = at(11, reports.registration_report, day=TODAY, timezone="UTC", stale_hours=24)
    # Counted once, on the day and for the person of the registration; drafts (kept or cancelled) never.
    assert [(r["user"], r["channel"], r["count"]) for r in report["registered"]] == [
        ("supervisor", "desk", 1), ("warehouse", "phone", 1)]
    assert at(11, reports.registration_report, day=date(2025, 5, 30), timezone="UTC", stale_hours=24)["total"] == 0
    # The draft is stale as a draft; the claim registered an hour ago is not, however old its draft.
    assert [(r["number"], r["state"], r["user"], r["hours_open"]) for r in report["stale"]] == [
        (kept.number, "draft", "warehouse", 75)]
    later = at(35, reports.registration_report, day=TODAY, timezone="UTC", stale_hours=24)
    assert [(r["number"], r["state"], r["user"], r["hours_open"]) for r in later["stale"]] == [
        (kept.number, "draft", "warehouse", 99), (direct.number, "registered", "warehouse", 26),
        (late.number, "registered", "supervisor", 25)]
    assert later["stale"][2]["since"] == "2025-06-02T10:00:00+00:00"
    assert later["stale"][2]["opened_at"] == "2025-05-30T08:00:00+00:00"


@pytest.mark.parametrize("day", ["2025-13-01", "yesterday", "2025-02-30"])
def test_a_bad_day_is_refused_naming_the_field(session, day):
    with pytest.raises(ValidationError) as refused:
        reports.daily_registration_report(session, day, fallback_timezone="UTC", stale_hours=24)
    assert refused.value.details["field"] == "day"
