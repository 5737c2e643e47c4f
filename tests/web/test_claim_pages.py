"""The claim pages and the station's complaint flow through the Flask test client: the list's filters, only the
actions a role may take, transitions and replacements by form, refusals that change nothing, CSRF."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Shipment, Unit, UnitEvent
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Attachment, Claim, ClaimEvent, Comment, Replacement, UnitCase

from .conftest import csrf_from
from tests import images


@pytest.fixture
def settings_overrides(tmp_path):
    """Attachments go to the test's own folder."""
    return {"instance_dir": str(tmp_path)}


@pytest.fixture
def desk(session, make_batch, users):
    """Two units shipped to a customer with a claim on the first, two more in stock, one never shipped."""
    _, serials = make_batch(quantity=5)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:2])
    claim = warranty_service.register_claim(session, serial=serials[0], symptom="no_power", author=users["warehouse"],
                                            today=date.today()).claim
    session.commit()
    return {"claim": claim.number, "claim_id": claim.id, "serials": serials, "customer_id": customer.id}


def _counts(session) -> tuple:
    """Everything an action at the desk writes, to show a refused one wrote nothing."""
    return (tuple(session.scalar(select(func.count()).select_from(t))
                  for t in (Claim, Replacement, Shipment, UnitEvent, ClaimEvent)),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()),
            tuple(session.execute(select(Claim.state).order_by(Claim.id)).scalars()),
            tuple(session.execute(select(UnitCase.state).order_by(UnitCase.id)).scalars()))


def _state(session, number: str) -> str:
    session.expire_all()
    return session.scalar(select(Claim.state).where(Claim.number == number))


def _post(client, page_url: str, url: str, data: dict):
    """Post a form of `page_url` with the CSRF token the page carries."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _numbers(html: str) -> list[str]:
    return re.findall(r'data-number="(CL-\d+)"', html)


# The list ------------------------------------------------------------------------------------------------------------

def test_the_list_filters_by_state_customer_product_mine_and_text(login, session, desk, users, product):
    serials = desk["serials"]
    other = warranty_service.register_claim(session, serial=serials[1], symptom="leak", author=users["coordinator"],
                                            today=date.today()).claim
    warranty_service.transition_claim(session, claim_id=other.id, to="triage", author=users["coordinator"])
    loose = warranty_service.register_claim(session, serial=serials[4], symptom="leak", author=None,
                                            today=date.today()).claim
    session.commit()
    client = login("warehouse")
    html = client.get("/claims").get_data(as_text=True)
    assert _numbers(html) == [loose.number, other.number, desk["claim"]]
    assert f'href="/claims/{desk["claim"]}"' in html
    assert _numbers(client.get("/claims?sort=opened").get_data(as_text=True)) == [desk["claim"], other.number,
                                                                                  loose.number]
    assert _numbers(client.get("/claims?state=triage").get_data(as_text=True)) == [other.number]
    assert _numbers(client.get(f"/claims?customer={desk['customer_id']}").get_data(as_text=True)) == [
        other.number, desk["claim"]]
    assert len(_numbers(client.get("/claims?product=PR-100").get_data(as_text=True))) == 3
    assert _numbers(client.get("/claims?mine=1").get_data(as_text=True)) == [desk["claim"]]
    assert _numbers(login("coordinator").get("/claims?mine=1").get_data(as_text=True)) == [other.number]
    assert _numbers(client.get(f"/claims?q={serials[1].lower()}").get_data(as_text=True)) == [other.number]
    assert _numbers(client.get(f"/claims?q={desk['claim'].lower()}").get_data(as_text=True)) == [desk["claim"]]
    empty = client.get("/claims?state=billed").get_data(as_text=True)
    assert 'id="no-claims"' in empty and _numbers(empty) == []


@pytest.mark.parametrize(("query", "field"), [("state=nonsense", "nonsense"), ("customer=x1", "customer"),
                                              ("customer=99999999999999999999", "customer"),
                                              ("product=NOPE", "NOPE"), ("page=0", "page"), ("sort=x", "sort")])
def test_a_bad_filter_names_the_field(login, desk, query, field):
    answer = login("coordinator").get(f"/claims?{query}")
    assert answer.status_code in (404, 422)
    assert field in answer.get_data(as_text=True)


def test_the_list_is_for_the_roles_that_read_claims(login, desk):
    assert login("production").get("/claims").status_code == 403
    assert login("engineer").get("/claims").status_code == 200
    assert 'href="/claims"' in login("quality").get("/station").get_data(as_text=True)
    assert 'href="/claims"' not in login("production").get("/station").get_data(as_text=True)


# The claim page ------------------------------------------------------------------------------------------------------

def _buttons(html: str) -> list[str]:
    return re.findall(r'name="to" value="([a-z_]+)"', html)


def test_the_claim_page_shows_header_route_map_cases_and_timeline(login, session, desk):
    html = login("quality").get(f"/claims/{desk['claim']}").get_data(as_text=True)
    assert 'data-state="registered"' in html and "Vodokanal" in html and "Does not switch on" in html
    assert "<svg" in html and 'class="state taken current" data-state="registered"' in html
    case_id = session.scalar(select(UnitCase.id).where(UnitCase.claim_id == desk["claim_id"]))
    assert f'id="case-{case_id}"' in html and f'href="/cases/{case_id}"' in html and desk["serials"][0] in html
    assert 'id="timeline"' in html and "warehouse" in html
    # Reachable by id as well as by number.
    assert login("quality").get(f"/claims/{desk['claim_id']}").status_code == 200
    assert login("quality").get("/claims/CL-999999").status_code == 404


@pytest.mark.parametrize(("role", "buttons", "replace", "receive"), [
    ("warehouse", [], True, True),
    ("coordinator", ["triage", "cancelled"], True, False),
    ("supervisor", ["triage", "cancelled"], True, True),
    ("engineer", [], False, False),
    ("quality", [], False, False),
])
def test_the_claim_page_offers_only_what_the_role_may_do_now(login, desk, role, buttons, replace, receive):
    html = login(role).get(f"/claims/{desk['claim']}").get_data(as_text=True)
    assert _buttons(html) == buttons
    assert ('id="replace-form"' in html) is replace
    assert ('class="scan desk-scan receive-form"' in html) is receive
    assert ('id="no-actions"' in html) is not (buttons or replace or receive)
    assert 'id="comment-form"' in html


def test_a_transition_by_form_moves_the_claim_with_its_reason(login, session, desk):
    client = login("coordinator")
    url = f"/claims/{desk['claim']}"
    answer = _post(client, url, f"{url}/transition", {"to": "triage", "reason": "called the customer"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(url)
    assert _state(session, desk["claim"]) == "triage"
    assert session.scalars(select(ClaimEvent.reason).order_by(ClaimEvent.id.desc())).first() == "called the customer"
    html = client.get(url).get_data(as_text=True)
    assert "is now Triage" in html and _buttons(html) == ["waiting_customer", "awaiting_return", "cancelled"]
    # The route map shows the path taken and where the claim is now.
    assert 'class="edge taken" data-from="registered" data-to="triage"' in html
    assert 'class="state taken current" data-state="triage"' in html


@pytest.mark.parametrize(("role", "to", "status", "words"), [
    # The desk may not triage: only a posted form could ask, and the server says no.
    ("warehouse", "triage", 403, "may not move a claim"),
    ("coordinator", "settled", 409, "cannot move a claim"),
    ("coordinator", "nowhere", 422, "unknown claim state"),
])
def test_a_refused_transition_says_why_on_the_page_and_changes_nothing(login, session, desk, role, to, status, words):
    client = login(role)
    url = f"/claims/{desk['claim']}"
    before = _counts(session)
    answer = _post(client, url, f"{url}/transition", {"to": to, "reason": "by hand"})
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    assert words in html and 'id="form-error"' in html and 'id="claim"' in html
    assert _counts(session) == before


def test_the_verdicts_steps_have_no_button_and_posting_the_form_is_refused(login, session, desk, users):
    for step in ("triage", "replacement_shipped", "pending_verification"):
        warranty_service.transition_claim(session, claim_id=desk["claim_id"], to=step, author=None)
    session.commit()
    url = f"/claims/{desk['claim']}"
    for role in ("warehouse", "engineer", "coordinator", "admin"):
        assert _buttons(login(role).get(url).get_data(as_text=True)) == [], role
    before = _counts(session)
    for role, to in (("warehouse", "settled"), ("coordinator", "billed"), ("admin", "settled")):
        answer = _post(login(role), url, f"{url}/transition", {"to": to})
        assert answer.status_code == 409 and "only by the test verdict" in answer.get_data(as_text=True), role
    assert _counts(session) == before
    assert _state(session, desk["claim"]) == "pending_verification"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(login, session, desk):
    client = login("coordinator")
    before = _counts(session)
    url = f"/claims/{desk['claim']}"
    assert client.post(f"{url}/transition", data={"to": "triage"}).status_code == 400
    assert client.post(f"{url}/replace", data={"replacement_serial": desk["serials"][2]}).status_code == 400
    assert client.post("/station/complaint", data={"serial": desk["serials"][3], "symptom": "leak"}).status_code == 400
    assert _counts(session) == before


def test_replace_and_receive_routes_refuse_other_roles(login, session, desk):
    url = f"/claims/{desk['claim']}"
    before = _counts(session)
    replace = {"replacement_serial": desk["serials"][2]}
    assert _post(login("engineer"), url, f"{url}/replace", replace).status_code == 403
    assert _post(login("coordinator"), url, f"{url}/receive", {"case": "1", "serial": "x"}).status_code == 403
    assert login("engineer").get(f"/station/claims/{desk['claim']}").status_code == 403
    assert _counts(session) == before


# The station's complaint and replacement flow --------------------------------------------------------------------

def test_the_station_offers_a_complaint_after_a_scan_to_the_desk_roles(login, desk):
    client = login("warehouse")
    page = client.get("/station").get_data(as_text=True)
    html = client.post("/station", data={"code": desk["serials"][1], "csrf_token": csrf_from(page)}).get_data(
        as_text=True)
    assert 'id="complaint-link"' in html and 'accesskey="r"' in html and "F2" in html
    engineer = login("engineer")
    page = engineer.get("/station").get_data(as_text=True)
    html = engineer.post("/station", data={"code": desk["serials"][1], "csrf_token": csrf_from(page)}).get_data(
        as_text=True)
    assert 'id="dossier"' in html and 'id="complaint-link"' not in html
    # The dossier's claims open their claim page for the roles that read claims.
    assert f'href="/claims/{desk["claim"]}"' in login("engineer").get(f"/units/{desk['serials'][0]}").get_data(
        as_text=True)
    assert f'href="/claims/{desk["claim"]}"' not in login("production").get(f"/units/{desk['serials'][0]}").get_data(
        as_text=True)
    assert engineer.get(f"/station/complaint?serial={desk['serials'][1]}").status_code == 403


def test_the_complaint_form_warns_before_and_after_registering(login, session, desk):
    client = login("warehouse")
    serial = desk["serials"][0]
    url = f"/station/complaint?serial={serial}"
    form = client.get(url).get_data(as_text=True)
    assert 'id="complaint-warnings"' in form and desk["claim"] in form  # the open claim
    assert "Vodokanal" in form and 'name="customer_id"' not in form
    assert 'value="no_power"' in form and "Does not switch on" in form
    answer = _post(client, url, "/station/complaint", {"serial": serial, "symptom": "leak", "channel": "phone",
                                                       "description": "drips"})
    assert answer.status_code == 302
    number = answer.headers["Location"].rsplit("/", 1)[1]
    claim = session.scalars(select(Claim).where(Claim.number == number)).one()
    assert (claim.symptom, claim.channel, claim.description, claim.customer_id) == ("leak", "phone", "drips",
                                                                                     desk["customer_id"])
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"claim {number} registered" in page
    assert "flash signal amber" in page and "already has an open claim" in page
    assert 'id="replace-form"' in page and "data-keeps-focus" in page
    # A refusal comes back to this page, not to the claim page.
    assert 'name="from" value="station"' in page


def test_a_never_shipped_unit_gets_a_customer_select_and_says_so(login, session, desk):
    client = login("coordinator")
    serial = desk["serials"][3]
    form = client.get(f"/station/complaint?serial={serial}").get_data(as_text=True)
    assert "never shipped" in form and 'name="customer_id"' in form and "Vodokanal" in form
    answer = _post(client, f"/station/complaint?serial={serial}", "/station/complaint",
                   {"serial": serial, "symptom": "no_display", "customer_id": str(desk["customer_id"])})
    assert answer.status_code == 302
    claim = session.scalars(select(Claim).where(Claim.unit_id == select(Unit.id).where(Unit.serial == serial)
                                                .scalar_subquery())).one()
    assert claim.customer_id == desk["customer_id"]


def test_a_bad_complaint_is_shown_in_the_form_and_registers_nothing(login, session, desk):
    client = login("warehouse")
    serial = desk["serials"][1]
    before = _counts(session)
    answer = _post(client, f"/station/complaint?serial={serial}", "/station/complaint",
                   {"serial": serial, "symptom": "exploded", "description": "kept"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "unknown symptom" in html and 'id="form-error"' in html and ">kept</textarea>" in html
    assert _counts(session) == before


def test_replace_on_the_spot_by_form_ships_and_receives(login, session, desk):
    client = login("warehouse")
    url = f"/station/claims/{desk['claim']}"
    replacement = desk["serials"][2]
    answer = _post(client, url, f"/claims/{desk['claim']}/replace",
                   {"replacement_serial": replacement, "on_desk": "1", "from": "station"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(url)
    assert _state(session, desk["claim"]) == "pending_verification"
    assert session.scalars(select(UnitCase.state).where(UnitCase.claim_id == desk["claim_id"])).one() == "received"
    html = client.get(url).get_data(as_text=True)
    assert f"{desk['serials'][0]} replaced by {replacement}, shipped to customer Vodokanal" in html
    assert 'data-state="received"' in html and 'id="quarantine-' in html and 'action="/labels/quarantine"' in html
    label = _post(client, url, "/labels/quarantine", {"claim": desk["claim"], "serial": desk["serials"][0]})
    assert label.status_code == 200 and label.data[:4] == b"%PDF"


@pytest.mark.parametrize(("serial", "status", "words"), [
    ("{shipped}", 409, "not in stock"),
    ("NO-SUCH-1", 404, "NO-SUCH-1"),
    ("{returned}", 422, "is the returned unit"),
])
def test_a_refused_replacement_is_shown_in_place_and_changes_nothing(login, session, desk, serial, status, words):
    client = login("warehouse")
    url = f"/station/claims/{desk['claim']}"
    typed = serial.format(shipped=desk["serials"][1], returned=desk["serials"][0])
    before = _counts(session)
    answer = _post(client, url, f"/claims/{desk['claim']}/replace",
                   {"replacement_serial": typed, "on_desk": "1", "from": "station"})
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    assert words in html and 'id="form-error"' in html and 'id="desk-claim"' in html
    # The scan field keeps the scan, selected for the next one, and has the focus.
    assert re.search(rf'id="replacement-serial"[^>]*value="{re.escape(typed)}"[^>]*data-keeps-focus', html)
    assert _counts(session) == before


def test_receiving_the_wrong_unit_is_said_loudly(login, session, desk):
    client = login("warehouse")
    url = f"/claims/{desk['claim']}"
    case_id = session.scalars(select(UnitCase.id).where(UnitCase.claim_id == desk["claim_id"])).one()
    answer = _post(client, url, f"{url}/receive", {"case": str(case_id), "serial": desk["serials"][1]})
    assert answer.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "flash error signal red" in html and "is not the expected unit" in html
    answer = _post(client, url, f"{url}/receive", {"case": str(case_id), "serial": desk["serials"][0]})
    html = client.get(url).get_data(as_text=True)
    assert f"{desk['serials'][0]} received" in html
    assert session.scalars(select(UnitCase.state).where(UnitCase.id == case_id)).one() == "received"


def test_the_complaint_page_without_a_unit_asks_for_its_scan(login, desk):
    client = login("supervisor")
    html = client.get("/station/complaint").get_data(as_text=True)
    assert 'id="complaint-serial"' in html and "data-keeps-focus" in html and 'id="complaint-form"' not in html
    html = client.get(f"/station/complaint?serial={desk['serials'][1]}").get_data(as_text=True)
    assert 'id="complaint-form"' in html
    assert client.get("/station/complaint?serial=NO-SUCH-9").status_code == 404


def test_a_comment_with_a_photo_joins_the_timeline(login, session, desk, tmp_path):
    client = login("engineer")
    url = f"/claims/{desk['claim']}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    png = images.PNG
    answer = client.post(f"{url}/comments", data={"csrf_token": token, "body": "cracked <b>housing</b>",
                                                  "visibility": "customer", "files": (io.BytesIO(png), "front.png")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    html = client.get(url).get_data(as_text=True)
    assert "cracked &lt;b&gt;housing&lt;/b&gt;" in html and "for the customer" in html and "front.png" in html
    attachment_id = session.scalar(select(Attachment.id))
    assert f'href="/api/v1/attachments/{attachment_id}"' in html
    assert client.get(f"/api/v1/attachments/{attachment_id}").data == png
    assert session.scalar(select(func.count()).select_from(Comment)) == 1
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1


def test_an_empty_comment_or_a_forbidden_file_is_refused_and_keeps_nothing(login, session, desk, tmp_path):
    client = login("coordinator")
    url = f"/claims/{desk['claim']}"
    answer = _post(client, url, f"{url}/comments", {"body": "   "})
    assert answer.status_code == 422 and 'id="form-error"' in answer.get_data(as_text=True)
    token = csrf_from(client.get(url).get_data(as_text=True))
    answer = client.post(f"{url}/comments", data={"csrf_token": token, "body": "see file",
                                                  "files": (io.BytesIO(b"MZ\x90\x00binary"), "tool.exe")},
                         content_type="multipart/form-data")
    assert answer.status_code == 415 and "see file" in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Comment)) == 0
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert list((tmp_path / "attachments").glob("*")) == [] if (tmp_path / "attachments").exists() else True


def test_the_complaint_form_keeps_its_photos_with_the_claim(login, session, desk, tmp_path):
    client = login("warehouse")
    serial = desk["serials"][1]
    token = csrf_from(client.get(f"/station/complaint?serial={serial}").get_data(as_text=True))
    png = images.PNG
    photos = [(io.BytesIO(png), "a.png"), (io.BytesIO(png), "b.png")]
    answer = client.post("/station/complaint", data={"csrf_token": token, "serial": serial, "symptom": "leak",
                                                     "photos": photos}, content_type="multipart/form-data")
    assert answer.status_code == 302
    number = answer.headers["Location"].rsplit("/", 1)[1]
    claim_id = session.scalar(select(Claim.id).where(Claim.number == number))
    assert session.scalars(select(Attachment.filename).where(Attachment.claim_id == claim_id)
                           .order_by(Attachment.id)).all() == ["a.png", "b.png"]
