"""Scanner profiles over the API: POST /stations/calibration, by the station's own device or an admin."""

from __future__ import annotations

import secrets

from flask import jsonify, request
from flask_openapi3 import Tag

from ...station import queries as station_queries
from ...station import service as station_service
from ...station.policy import profile_dict
from ...station.schemas import StationCalibrate, StationCalibrationRead
from ..auth import current_user, requires
from ..database import commit, db
from . import bp, errors

TAG = Tag(name="stations", description="scanning stations and their scanner profiles")
# The header a station's client proves it is the station's own device with (the key it got when it first
# calibrated the station here, or the station page's cookie).
KEY_HEADER = "X-Station-Key"


@bp.post("/stations/calibration", tags=[TAG],
         responses={200: StationCalibrationRead, 201: StationCalibrationRead, **errors(400, 401, 403, 409, 413, 422)})
@requires()
def post_station_calibration(body: StationCalibrate):
    """Learn a station's scanner profile from one scan of the test symbol. A new station is bound to the caller,
    whose key comes back once (201); changing an existing one needs that key in X-Station-Key, or an admin (403)."""
    sent = request.headers.get(KEY_HEADER, "").strip()
    is_new = station_queries.find_station(db(), body.station.strip()) is None
    key = sent or (secrets.token_urlsafe(32) if is_new else "")
    learned = station_service.calibrate_station(db(), name=body.station, raw=body.code, author=current_user(),
                                                device_key=key)
    commit()
    answer = {"station": body.station.strip(), "profile": profile_dict(learned),
              "device_key": key if is_new and not sent else None}
    return jsonify(answer), 201 if is_new else 200
