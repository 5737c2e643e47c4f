"""Settings: defaults, SERIALTRACE_* overrides, clear errors for bad values, the business day."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from serialtrace.config import ConfigError, Settings, business_today


def test_environment_overrides_defaults_and_mapping_overrides_environment():
    s = Settings.load({"serial_scheme": "base32"}, environ={"SERIALTRACE_WARRANTY_GRACE_DAYS": "14",
                                                              "SERIALTRACE_SERIAL_SCHEME": "pattern"})
    assert s.warranty_grace_days == 14 and s.serial_scheme == "base32"


def test_bad_number_names_the_variable():
    with pytest.raises(ConfigError, match="SERIALTRACE_WARRANTY_GRACE_DAYS must be a whole number, not 'abc'"):
        Settings.load(environ={"SERIALTRACE_WARRANTY_GRACE_DAYS": "abc"})


def test_bad_flag_names_the_variable():
    with pytest.raises(ConfigError, match="SERIALTRACE_SESSION_COOKIE_SECURE must be true or false"):
        Settings.load(environ={"SERIALTRACE_SESSION_COOKIE_SECURE": "maybe"})


def test_business_today_follows_the_configured_zone():
    # UTC+14 and UTC-11 are 25 hours apart, so their dates always differ by one or two days.
    east = business_today(Settings.load({"timezone": "Pacific/Kiritimati"}, environ={}))
    west = business_today(Settings.load({"timezone": "Pacific/Pago_Pago"}, environ={}))
    assert east - west in (timedelta(days=1), timedelta(days=2))
    assert east == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert business_today(Settings.load({"timezone": "UTC"}, environ={})) == datetime.now(UTC).date()


def test_unknown_time_zone_is_refused():
    with pytest.raises(ConfigError, match="SERIALTRACE_TIMEZONE 'Mars/Base' is not a time zone"):
        Settings.load(environ={"SERIALTRACE_TIMEZONE": "Mars/Base"})
