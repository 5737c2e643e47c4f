"""A batch's labels carry the expiry date (17) its product's shelf life gives, in PDF, ZPL and PNG alike."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.labelling.queries import label_data_for_batch
from serialtrace.labelling.render import write_batch_labels
from serialtrace.labels import builtin_templates
from serialtrace.trace import service

from tests.labels.conftest import GS, decode, decode_png, rasterise_pdf, render_zpl_images

GTIN = "04601234560016"
WIDE = builtin_templates()["4x2in"]


@pytest.fixture
def expiring_batch(session, scheme):
    """Three units of a product with an 18-month shelf life, produced on 31 January 2025."""
    product = service.add_product(session, sku="GA-450", name="Gas analyser", gtin=GTIN, shelf_life_months=18)
    batch, serials = service.register_batch(session, product=product, quantity=3, number="2501G01", scheme=scheme,
                                            produced_on=date(2025, 1, 31))
    return batch, serials


def _element(serial: str, *, with_11: bool = True) -> str:
    # 31 January + 18 months is 31 July 2026.
    return f"01{GTIN}" + ("11250131" if with_11 else "") + f"17260731102501G01{GS}21{serial}"


def test_label_data_carries_the_expiry_date(session, expiring_batch):
    batch, _ = expiring_batch
    labels = list(label_data_for_batch(session, batch))
    assert {label.expires_on for label in labels} == {date(2026, 7, 31)}


def test_a_product_without_a_shelf_life_gets_no_expiry_date(session, make_batch):
    batch, _ = make_batch(2)
    assert {label.expires_on for label in label_data_for_batch(session, batch)} == {None}


def test_png_files_decode_with_the_expiry_date(session, expiring_batch, tmp_path):
    batch, _ = expiring_batch
    assert write_batch_labels(session, batch, WIDE, "png", tmp_path / "png") == 3
    for path in sorted((tmp_path / "png").iterdir()):
        serial = path.stem
        assert decode_png(path.read_bytes()) == [("]C1", _element(serial, with_11=False)), ("]d2", _element(serial))]


def test_zpl_decodes_with_the_expiry_date(session, expiring_batch, tmp_path):
    batch, serials = expiring_batch
    write_batch_labels(session, batch, WIDE, "zpl", tmp_path / "b.zpl")
    images = render_zpl_images((tmp_path / "b.zpl").read_bytes(), WIDE.dpi)
    found = sorted(tuple(decode(image)) for image in images)
    assert found == sorted((("]C1", _element(s, with_11=False)), ("]d2", _element(s))) for s in serials)


def test_pdf_decodes_with_the_expiry_date(session, expiring_batch, tmp_path):
    batch, serials = expiring_batch
    write_batch_labels(session, batch, WIDE, "pdf", tmp_path / "b.pdf", stop=1)
    found = decode(rasterise_pdf(tmp_path / "b.pdf", dpi=400)[0])
    assert found == [("]C1", _element(serials[0], with_11=False)), ("]d2", _element(serials[0]))]
