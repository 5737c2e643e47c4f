"""Deleting a station's scanner profile (admin area): the station reads scans uncalibrated until calibrated again."""

from __future__ import annotations

import pytest

from serialtrace.errors import NotFound
from serialtrace.station import queries, service


def test_delete_a_station_profile(session):
    station = service.save_station_profile(session, name="desk-1", profile={"prefix": "#", "suffix": "",
                                                                            "separator": "|", "layout": "ru"})
    service.save_station_profile(session, name="desk-2", profile={})
    assert [s.name for s in queries.list_stations(session)] == ["desk-1", "desk-2"]
    service.delete_station_profile(session, station.id)
    assert queries.find_station_profile(session, "desk-1") is None
    assert [s.name for s in queries.list_stations(session)] == ["desk-2"]


def test_deleting_an_unknown_station_is_not_found(session):
    with pytest.raises(NotFound, match="no station 12345"):
        service.delete_station_profile(session, 12345)
