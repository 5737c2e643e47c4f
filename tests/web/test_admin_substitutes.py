"""The admin product page: substitutes the desk may hand out in place of the product, and the replacement's
warranty rule, each change recorded in the admin history."""

from __future__ import annotations

from html import unescape

from serialtrace.trace import queries as trace_queries
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product

from .test_admin import _events, admin  # noqa: F401 (the fixture)


def _successor(session):
    return trace_service.add_product(session, sku="PR-110", name="Flow meter UR-110", gtin="04601234560023")


def test_add_and_remove_a_substitute(admin, session, product):  # noqa: F811
    successor = _successor(session)
    session.commit()
    page = f"/admin/products/{product.id}"
    assert "None: only units of PR-100 replace it." in unescape(admin.get(page).get_data(as_text=True))
    resp = admin.post_form(f"{page}/substitutes", {"substitute": "PR-110"}, page=page)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page)
    html = unescape(admin.get(page).get_data(as_text=True))
    assert "PR-110 may now replace PR-100" in html and "Remove PR-110" in html
    session.expire_all()
    assert [p.sku for p in trace_queries.list_substitutes(session, product)] == ["PR-110"]
    [event] = _events(session, "product.substitute_add")
    assert (event.subject, event.details) == ("PR-100", {"substitute": "PR-110"})
    resp = admin.post_form(f"{page}/substitutes/{successor.id}/remove", {}, page=page)
    assert resp.status_code == 302
    session.expire_all()
    assert trace_queries.list_substitutes(session, product) == []
    assert [e.details for e in _events(session, "product.substitute_remove")] == [{"substitute": "PR-110"}]


def test_refused_substitutes_say_why_and_change_nothing(admin, session, product):  # noqa: F811
    successor = _successor(session)
    session.commit()
    page = f"/admin/products/{product.id}"
    for form, message in (({"substitute": "PR-100"}, "PR-100 cannot be its own substitute"),
                          ({"substitute": "NOPE"}, "no product with SKU or GTIN 'NOPE'")):
        resp = admin.post_form(f"{page}/substitutes", form, page=page)
        assert resp.status_code == 302
        assert message in unescape(admin.get(page).get_data(as_text=True))
    resp = admin.post_form(f"{page}/substitutes/{successor.id}/remove", {}, page=page)
    assert "PR-110 is not a substitute for PR-100" in unescape(admin.get(page).get_data(as_text=True))
    assert admin.post(f"{page}/substitutes", data={"substitute": "PR-110"}).status_code == 400  # no CSRF token
    session.expire_all()
    assert trace_queries.list_substitutes(session, product) == [] and _events(session) == []


def test_the_replacement_warranty_rule_is_edited_with_the_product(admin, session, product):  # noqa: F811
    session.commit()
    page = f"/admin/products/{product.id}"
    form = {"name": product.name, "gtin": product.gtin, "warranty_months": "24", "family": ""}
    assert admin.post_form(page, {**form, "replacement_warranty": "restart"}, page=page).status_code == 302
    session.expire_all()
    assert session.get(Product, product.id).replacement_warranty == "restart"
    assert _events(session, "product.edit")[-1].details == {"replacement_warranty": ["continue", "restart"]}
    resp = admin.post_form(page, {**form, "replacement_warranty": "forever"}, page=page)
    assert resp.status_code == 422
    assert "'continue' or 'restart', not 'forever'" in unescape(resp.get_data(as_text=True))
    session.expire_all()
    assert session.get(Product, product.id).replacement_warranty == "restart"
