"""Attachments: checked by size and by their bytes, stored under random names, removed with a rolled-back row."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from serialtrace.errors import NotFound, PermissionDenied, TooLarge, UnsupportedType, ValidationError
from serialtrace.warranty import attachments
from serialtrace.warranty.models import Attachment

from .tested_case import make_tested
from tests import images

JPEG, PNG, WEBP = images.JPEG, images.PNG, images.WEBP
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "attachments"


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _rows(session) -> int:
    return session.scalar(select(func.count()).select_from(Attachment))


@pytest.mark.parametrize(("data", "name", "content_type"), [
    (JPEG, "photo.jpg", "image/jpeg"), (PNG, "scan.PNG", "image/png"), (WEBP, "x.webp", "image/webp"),
    (PDF, "report.pdf", "application/pdf"), (b"reading 4.2 mA\n", "notes.txt", "text/plain; charset=utf-8"),
    (b"serial;value\nA1;4,2\n", "values.csv", "text/csv; charset=utf-8"),
    # The declared name does not decide the type: the bytes do.
    (PNG, "photo.jpg", "image/png"),
])
def test_allowed_files_are_stored_under_a_random_name_with_their_sha256(session, tested, who, folder, data, name,
                                                                       content_type):
    kept = attachments.add_attachment(session, claim_id=tested.claim.id, filename=name, data=data,
                                      author=who["engineer"], folder=folder, case_id=tested.case.id)
    assert (kept.content_type, kept.size, kept.sha256, kept.filename, kept.author, kept.case_id) == (
        content_type, len(data), hashlib.sha256(data).hexdigest(), name, "engineer", tested.case.id)
    assert _files(folder) == [kept.stored_name] and len(kept.stored_name) == 32 and name not in kept.stored_name
    assert (folder / kept.stored_name).read_bytes() == data
    found, path = attachments.attachment_path(session, kept.id, folder=folder)
    assert (found.id, path) == (kept.id, folder / kept.stored_name)
    assert attachments.is_inline_image(kept.content_type) is content_type.startswith("image/")


@pytest.mark.parametrize(("data", "name"), [
    (EXE, "invoice.jpg"), (HTML, "photo.png"), (b"  \n<svg onload=alert(1)>", "a.txt"),
    (b"text <script>x</script>", "a.csv"), (b"\x00\x01\x02binary", "a.txt"), (b"\xff\xfe\xfd", "a.txt"),
])
def test_forbidden_types_are_415_naming_the_allowed_types_and_leave_nothing(session, tested, who, folder, data,
                                                                            name):
    with pytest.raises(UnsupportedType) as exc:
        attachments.add_attachment(session, claim_id=tested.claim.id, filename=name, data=data,
                                   author=who["engineer"], folder=folder)
    assert str(exc.value) == "the file's content is not an allowed type; allowed: JPEG, PNG, WebP, PDF, plain text " \
                             "or CSV"
    assert exc.value.status_code == 415 and exc.value.details["field"] == "file"
    assert (_files(folder), _rows(session)) == ([], 0)


def test_a_file_over_the_limit_is_413_naming_the_limit_and_leaves_nothing(session, tested, who, folder):
    with pytest.raises(TooLarge) as exc:
        attachments.add_attachment(session, claim_id=tested.claim.id, filename="big.jpg", data=JPEG + b"\x00" * 200,
                                   author=who["engineer"], folder=folder, max_bytes=200)
    assert str(exc.value) == "the file is larger than the limit of 200 bytes"
    assert (exc.value.status_code, exc.value.details) == (413, {"field": "file", "limit": 200})
    assert (_files(folder), _rows(session)) == ([], 0)
    exact = JPEG + b"\x00" * (200 - len(JPEG))
    attachments.add_attachment(session, claim_id=tested.claim.id, filename="ok.jpg", data=exact,
                               author=who["engineer"], folder=folder, max_bytes=200)
    assert _rows(session) == 1


def test_a_rolled_back_attachment_takes_its_file_with_it_and_a_committed_one_keeps_it(session, tested, who, folder):
    session.commit()
    kept = attachments.add_attachment(session, claim_id=tested.claim.id, filename="a.jpg", data=JPEG,
                                      author=who["engineer"], folder=folder)
    session.commit()
    attachments.add_attachment(session, claim_id=tested.claim.id, filename="b.jpg", data=JPEG,
                               author=who["engineer"], folder=folder)
    assert len(_files(folder)) == 2
    session.rollback()
    assert _files(folder) == [kept.stored_name]
    assert [a.stored_name for a in session.scalars(select(Attachment))] == [kept.stored_name]


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"case_id": 999999}, "case_id", "case 999999 is not a case of this claim"),
    ({"test_record_id": 999999}, "test_record_id", "test record 999999 is not a test of this claim"),
    ({"data": b""}, "file", "the file is empty"),
])
def test_a_case_or_test_of_another_claim_or_an_empty_file_is_422(session, tested, who, folder, kwargs, field,
                                                                 message):
    args = {"filename": "a.jpg", "data": JPEG, **kwargs}
    with pytest.raises(ValidationError) as exc:
        attachments.add_attachment(session, claim_id=tested.claim.id, author=who["engineer"], folder=folder, **args)
    assert (str(exc.value), exc.value.details) == (message, {"field": field})
    assert (_files(folder), _rows(session)) == ([], 0)


def test_a_case_of_another_claim_is_refused(session, make_batch, tested, who, folder):
    other = make_tested(session, make_batch, who["warehouse"])
    with pytest.raises(ValidationError, match=f"case {other.case.id} is not a case of this claim"):
        attachments.add_attachment(session, claim_id=tested.claim.id, filename="a.jpg", data=JPEG,
                                   author=who["engineer"], folder=folder, case_id=other.case.id)
    assert _files(folder) == []


def test_production_may_not_attach_and_unknown_claims_and_attachments_are_404(session, tested, who, folder):
    with pytest.raises(PermissionDenied):
        attachments.add_attachment(session, claim_id=tested.claim.id, filename="a.jpg", data=JPEG,
                                   author=who["production"], folder=folder)
    with pytest.raises(NotFound, match="no claim with id 999999"):
        attachments.add_attachment(session, claim_id=999999, filename="a.jpg", data=JPEG, author=who["engineer"],
                                   folder=folder)
    with pytest.raises(NotFound, match="no attachment with id 999999"):
        attachments.attachment_path(session, 999999, folder=folder)
    assert (_files(folder), _rows(session)) == ([], 0)


def test_a_missing_file_is_404(session, tested, who, folder):
    kept = attachments.add_attachment(session, claim_id=tested.claim.id, filename="a.jpg", data=JPEG,
                                      author=who["engineer"], folder=folder)
    (folder / kept.stored_name).unlink()
    with pytest.raises(NotFound, match=f"the file of attachment {kept.id} is missing"):
        attachments.attachment_path(session, kept.id, folder=folder)


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\photo.jpg", "photo.jpg"), (".htaccess", "htaccess"),
    ("a\r\nb\x00c.txt", "a b c.txt"), ("", "attachment"), (None, "attachment"), ("...", "attachment"),
    ("Фото 1.jpg", "Фото 1.jpg"), ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_file_names_are_made_safe_for_display(raw, shown):
    assert attachments.display_name(raw) == shown
