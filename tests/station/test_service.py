"""The scan flow, the scan log and station profiles, called as services on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.columns import utcnow
from serialtrace.errors import ValidationError
from serialtrace.scanner.wedge import CALIBRATION_DATA
from serialtrace.station import queries, service
from serialtrace.station.models import ScanLog, ScannerStation


def _logs(session, **where):
    stmt = select(ScanLog).order_by(ScanLog.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(ScanLog, key) == value)
    return session.scalars(stmt).all()


def _stations(session) -> int:
    return session.scalar(select(func.count()).select_from(ScannerStation))


def test_a_repeat_after_the_window_is_a_new_scan(session, user, make_batch):
    _, serials = make_batch(quantity=1)
    t0 = utcnow()
    assert service.scan_payload(session, serials[0], station="d", user=user, now=t0)["result"] == "unit"

    def at(seconds):
        return service.scan_payload(session, serials[0], station="d", user=user,
                                    now=t0 + timedelta(seconds=seconds))["result"]

    assert at(0.9) == "repeat"
    assert at(1.5) == "unit"
    assert len(_logs(session, raw=serials[0])) == 2


def test_a_scan_without_a_writer_is_logged_in_the_session_with_what_it_matched(session, user, make_batch):
    batch, serials = make_batch(quantity=1, number="2501A00")
    answer = service.scan_payload(session, f"  {serials[0]}\r\n", station="  desk-1  ", user=user, source="api")
    assert answer["result"] == "unit" and answer["station"] == "desk-1"
    assert answer["parsed"]["kind"] == "plain" and answer["matches"][0]["serial"] == serials[0]
    [row] = _logs(session, station="desk-1")
    assert (row.raw, row.result, row.kind, row.source, row.user_id) == (f"  {serials[0]}", "unit", "plain", "api",
                                                                        user.id)
    assert row.unit_id is not None and row.batch_id is None
    assert service.scan_payload(session, "2501A00", station="desk-1", user=user)["result"] == "batch"
    assert _logs(session, raw="2501A00")[0].batch_id == batch.id


def test_an_invalid_scan_is_an_answer_and_logged_not_raised(session, user):
    answer = service.scan_payload(session, "]C1019", station="desk-1", user=user)
    assert answer["result"] == "invalid" and answer["parsed"] is None and answer["matches"] == []
    assert answer["message"]
    assert [(r.raw, r.result, r.kind) for r in _logs(session, station="desk-1")] == [("]C1019", "invalid", None)]


def test_an_empty_scan_is_invalid_and_never_a_repeat(session, user):
    for _ in range(2):
        answer = service.scan_payload(session, "\r\n", station="desk-1", user=user)
        assert answer["result"] == "invalid" and answer["message"] == "empty scan"
    assert len(_logs(session, station="desk-1")) == 2


def test_photos_are_read_with_the_decoder_profile_not_the_stations(session, user, make_batch):
    _, serials = make_batch(quantity=1)
    # This station's scanner ends every scan with a suffix, which its profile strips; a photo's decoded text has
    # none, so stripping it there would cut the serial.
    code = f"]d20104601234560016\x1d21{serials[0]}"
    service.save_station_profile(session, name="desk-sfx", profile={"suffix": serials[0][-2:]})
    typed = service.scan_payload(session, code, station="desk-sfx", user=user)
    assert typed["result"] == "not_found" and typed["parsed"]["serial"] == serials[0][:-2]
    photo = service.scan_payload(session, code, station="desk-sfx", user=user, source="image",
                                 now=utcnow() + timedelta(seconds=2))
    assert photo["result"] == "unit" and photo["matches"][0]["serial"] == serials[0]


def test_save_station_profile_replaces_the_old_one(session):
    service.save_station_profile(session, name="desk", profile={"prefix": "A", "separator": "^"})
    service.save_station_profile(session, name="desk", profile={"prefix": "B", "separator": "|", "layout": "ru"})
    assert queries.find_station_profile(session, "desk") == {"prefix": "B", "suffix": "", "separator": "|",
                                                            "layout": "ru"}
    assert queries.find_station_profile(session, "nowhere") is None


def test_a_profile_field_that_is_not_text_is_refused_naming_it(session):
    with pytest.raises(ValidationError, match="^profile suffix must be text$") as caught:
        service.save_station_profile(session, name="desk", profile={"suffix": 7})
    assert caught.value.details == {"field": "suffix"}
    assert _stations(session) == 0


@pytest.mark.parametrize(("name", "message"), [("  ", "a station name is required"),
                                               ("d" * 65, "a station name has at most 64 characters")])
def test_a_profile_for_a_blank_or_overlong_station_name_is_refused(session, name, message):
    with pytest.raises(ValidationError, match=f"^{message}$") as caught:
        service.save_station_profile(session, name=name, profile={})
    assert caught.value.details == {"field": "station"}
    assert _stations(session) == 0


def test_calibration_learns_and_saves_the_scanners_profile(session, user):
    learned = service.calibrate_station(session, name=" desk-7 ", raw="#]C1" + CALIBRATION_DATA.replace("\x1d", "^"),
                                        author=user)
    assert (learned.prefix, learned.separator) == ("#", "^")
    station = queries.find_station(session, "desk-7")
    assert station.profile == {"prefix": "#", "suffix": "", "separator": "^", "layout": learned.layout}
    assert station.updated_by_id == user.id


@pytest.mark.parametrize(("name", "raw", "field", "message"), [
    ("", CALIBRATION_DATA, "station", "a station name is required (at most 64 characters)"),
    ("d" * 65, CALIBRATION_DATA, "station", "a station name is required (at most 64 characters)"),
    ("desk-8", "  ", "code", "scan the test symbol into the field"),
    ("desk-8", "SOMETHING-ELSE", "code", "that scan is not the test symbol: "),
])
def test_calibration_with_a_bad_name_or_scan_names_the_field_and_saves_nothing(session, name, raw, field, message):
    with pytest.raises(ValidationError) as caught:
        service.calibrate_station(session, name=name, raw=raw)
    assert caught.value.message.startswith(message) and caught.value.details == {"field": field}
    assert _stations(session) == 0
