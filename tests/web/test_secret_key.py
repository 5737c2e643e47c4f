"""The secret key kept in the instance folder: made once, owner-only, the same after a restart."""

from __future__ import annotations

import stat

import pytest

from serialtrace.config import ConfigError
from serialtrace.web import create_app

from .conftest import PASSWORD, csrf_from


def _app(make_runtime, folder, **settings):
    return create_app(runtime=make_runtime(secret_key="", instance_dir=str(folder), **settings))


def test_a_generated_key_is_kept_in_the_instance_folder_and_survives_a_restart(make_runtime, users, make_batch,
                                                                                tmp_path):
    _, serials = make_batch(quantity=1)
    folder = tmp_path / "instance"
    first = _app(make_runtime, folder)
    key_file = folder / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip() and len(first.config["SECRET_KEY"]) >= 32
    client = first.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "warehouse", "password": PASSWORD,
                                       "csrf_token": csrf_from(page)}).status_code == 302
    station = client.get("/station").get_data(as_text=True)

    restarted = _app(make_runtime, folder)
    assert restarted.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    # The open station page's cookie and form token, sent to the restarted server: still logged in, scan answered.
    after = restarted.test_client()
    after.set_cookie("session", client.get_cookie("session").value)
    resp = after.post("/station", data={"code": serials[0], "csrf_token": csrf_from(station)})
    assert resp.status_code == 200 and 'data-result="unit"' in resp.get_data(as_text=True)


def test_a_configured_key_writes_no_file(make_runtime, tmp_path):
    app = create_app(runtime=make_runtime(secret_key="from-the-environment", instance_dir=str(tmp_path)))
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_a_key_file_others_can_read_is_made_owner_only(make_runtime, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 64 + "\n")
    key_file.chmod(0o644)
    assert _app(make_runtime, tmp_path).config["SECRET_KEY"] == "k" * 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_an_empty_key_file_stops_the_app_naming_the_file(make_runtime, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("short\n")
    with pytest.raises(ConfigError, match=f"the secret key file {key_file} holds no key"):
        _app(make_runtime, tmp_path)
    assert key_file.read_text() == "short\n"
