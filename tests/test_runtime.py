"""The runtime at start: every bad serial-scheme setting is one ConfigError line naming its variable."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from serialtrace.cli import main
from serialtrace.config import ConfigError, Settings
from serialtrace.runtime import Runtime
from serialtrace.web import create_app

# (environment, the message's start): unknown scheme, bad pattern, check not allowed for the scheme, empty key.
BAD_SETTINGS = [
    ({"SERIALTRACE_SERIAL_SCHEME": "sequential"},
     "SERIALTRACE_SERIAL_SCHEME: unknown serial scheme 'sequential'; use opaque, base32 or pattern"),
    ({"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_PATTERN": "{yy}{ww}{seq"},
     "SERIALTRACE_SERIAL_PATTERN: serial pattern '{yy}{ww}{seq' does not parse"),
    ({"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_PATTERN": "{yy}{ww}"},
     "SERIALTRACE_SERIAL_PATTERN: serial pattern needs exactly one {seq} field"),
    ({"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_PATTERN": "{seq:06x}{seq}"},
     "SERIALTRACE_SERIAL_PATTERN: serial pattern needs exactly one {seq} field"),
    ({"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_PATTERN": "{seq:06s}"},
     "SERIALTRACE_SERIAL_PATTERN: serial pattern '{seq:06s}' cannot be filled in"),
    ({"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_PATTERN": "SN {seq:06d}"},
     "SERIALTRACE_SERIAL_PATTERN: serial pattern 'SN {seq:06d}' gives serials such as 'SN 000001' with characters"),
    ({"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_PREFIX": "UR 1"},
     "SERIALTRACE_SERIAL_PREFIX: serial prefix 'UR 1' may hold only letters, digits and - . /"),
    ({"SERIALTRACE_SERIAL_SCHEME": "base32", "SERIALTRACE_SERIAL_CHECK": "damm"},
     "SERIALTRACE_SERIAL_CHECK: check 'damm' does not suit the base32 scheme; use none, mod37_36"),
    ({"SERIALTRACE_SERIAL_CHECK": "luhn"}, "SERIALTRACE_SERIAL_CHECK: unknown serial check 'luhn'"),
    ({"SERIALTRACE_SERIAL_KEY": ""}, "SERIALTRACE_SERIAL_KEY: the opaque scheme needs a key; it must not be empty"),
]


@pytest.mark.parametrize("environ, message", BAD_SETTINGS)
def test_a_bad_serial_setting_is_a_config_error_naming_the_variable(environ, message):
    with pytest.raises(ConfigError) as err:
        Runtime(Settings.load(environ=environ))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("environ, message", BAD_SETTINGS)
def test_the_cli_answers_a_bad_serial_setting_with_one_line(tmp_path, monkeypatch, environ, message):
    db = tmp_path / "cli.sqlite"
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{db}")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["batch", "create", "--product", "PR-1", "--quantity", "3"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {message}") and result.output.count("\n") == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and not db.exists()


@pytest.mark.parametrize("environ, message", BAD_SETTINGS[:1] + BAD_SETTINGS[-1:])
def test_the_app_refuses_to_start_on_a_bad_serial_setting(tmp_path, monkeypatch, environ, message):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{message[:30]}"):
        create_app()


def test_serve_reports_a_bad_serial_setting_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite'}")
    monkeypatch.setenv("SERIALTRACE_SERIAL_SCHEME", "pattern")
    monkeypatch.setenv("SERIALTRACE_SERIAL_PATTERN", "{prefix}{yy}")
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert result.output == "error: SERIALTRACE_SERIAL_PATTERN: serial pattern needs exactly one {seq} field\n"


def test_good_settings_build_the_scheme_they_name():
    rt = Runtime(Settings.load(environ={"SERIALTRACE_SERIAL_SCHEME": "pattern", "SERIALTRACE_SERIAL_KEY": "",
                                        "SERIALTRACE_SERIAL_PATTERN": "SN{yy}{seq:04d}",
                                        "SERIALTRACE_SERIAL_CHECK": "mod37_36"}))
    scheme = rt.serial_scheme()
    assert (scheme.name, scheme.check) == ("pattern", "mod37_36")
    assert scheme.format(0, 1, date(2026, 1, 5)) == ["SN260001K"] and scheme.fits("SN260001K")
