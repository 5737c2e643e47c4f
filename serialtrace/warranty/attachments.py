"""Files kept with a claim (photos, documents): checked by size and by what the bytes are, stored under random names
in the instance folder, never under the uploader's name; a file whose row is rolled back is removed with it."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import struct
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PIL import JpegImagePlugin, PngImagePlugin, WebPImagePlugin
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from ..errors import NotFound, TooLarge, UnsupportedType, ValidationError
from ..i18n import _l
from ..trace.policy import MAX_INT
from ..trace.service import Author, author_fields
from .comments import ensure_claim_staff
from .models import Attachment, TestRecord, UnitCase
from .service import get_claim

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Images a page may show inline; every other type is only ever downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
ALLOWED = "JPEG, PNG, WebP, PDF, plain text or CSV"
FILENAME_MAX = 255
# Pictures above this many pixels are refused: a 48 MP phone photo fits, a decompression bomb does not.
MAX_PIXELS = 50_000_000
_READERS = {"image/jpeg": JpegImagePlugin.JpegImageFile, "image/png": PngImagePlugin.PngImageFile,
            "image/webp": WebPImagePlugin.WebPImageFile}
_FAMILY = {"image/jpeg": "image", "image/png": "image", "image/webp": "image", "application/pdf": "pdf",
           "text/plain": "text", "text/csv": "text"}
_FAMILY_BY_EXTENSION = {"jpg": "image", "jpeg": "image", "png": "image", "webp": "image", "pdf": "pdf",
                        "txt": "text", "csv": "text"}
_WHAT = {"image/jpeg": _l("a JPEG image"), "image/png": _l("a PNG image"), "image/webp": _l("a WebP image"),
         "application/pdf": _l("a PDF document"), "text/plain": _l("text"), "text/csv": _l("text")}
# Text that starts like markup, or holds an active element anywhere: a browser might run it as a page.
_MARKUP = re.compile(rb"<\s*(script|html|body|head|iframe|svg|object|embed|meta|!doctype|\?xml)\b", re.IGNORECASE)
# Control characters other than tab, line feed, form feed and carriage return do not occur in text files.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_PENDING = "serialtrace.attachment_files"
_STORED_NAME = re.compile(r"[0-9a-f]{32,64}")
Row = TypeVar("Row")


def sniff(data: bytes, filename: str = "") -> str | None:
    """The content type of `data` read from its bytes (the allow-list: JPEG, PNG, WebP, PDF, UTF-8 text or CSV), or
    None when it is none of them; the file name only tells CSV from plain text."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if _BINARY.search(text) or text.lstrip().startswith("<") or _MARKUP.search(data):
        return None
    kind = "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    return f"{kind}; charset=utf-8"


def display_name(filename: str | None) -> str:
    """The uploader's file name made safe to show and to offer in a download: the last path part, no control or
    separator characters, no leading dots, at most FILENAME_MAX characters with the extension kept; "attachment"
    when nothing is left."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        name = name[:FILENAME_MAX - len(ext) - 1].rstrip() + "." + ext if ext else name[:FILENAME_MAX]
    return name or "attachment"


def is_inline_image(content_type: str) -> bool:
    """True when a page may show the file inline (JPEG, PNG, WebP); everything else is downloaded."""
    return content_type in INLINE_TYPES


def ensure_allowed(data: bytes, filename: str, max_bytes: int) -> str:
    """The stored content type of an upload within the limits; 413 over the size, 415 for a type not allowed."""
    if len(data) > max_bytes:
        raise TooLarge(_l("the file is larger than the limit of %(limit)s bytes", limit=max_bytes),
                       details={"field": "file", "limit": max_bytes})
    if not data:
        raise ValidationError(_l("the file is empty"), details={"field": "file"})
    content_type = sniff(data, filename)
    if content_type is None:
        raise UnsupportedType(_l("the file's content is not an allowed type; allowed: %(allowed)s", allowed=ALLOWED),
                              details={"field": "file", "allowed": ALLOWED})
    _ensure_named_as_it_is(filename, content_type)
    if content_type in INLINE_TYPES:
        _ensure_whole_image(data, content_type)
    return content_type


def _ensure_named_as_it_is(filename: str, content_type: str) -> None:
    """415 when the name's extension says picture, PDF or text and the bytes are another of them (a PNG named
    .csv, a PDF named .png): a reader opening it by its name would get something else. Pictures of one format named
    as another (a PNG called .jpg) are common and harmless, so they pass."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    named = _FAMILY_BY_EXTENSION.get(extension)
    holds = _FAMILY[content_type.split(";")[0]]
    if named is not None and named != holds:
        raise UnsupportedType(_l("the file is named %(name)s but holds %(what)s; send it under its own name",
                                 name=display_name(filename), what=_WHAT[content_type.split(";")[0]]),
                              details={"field": "file", "allowed": ALLOWED})


def _ensure_whole_image(data: bytes, content_type: str) -> None:
    """422 for a picture whose header is unreadable or whose data stops short, 413 for one of more than MAX_PIXELS
    pixels (a few kB can claim gigapixels, and every reader of the claim page would decode it). Reads the header
    and, for PNG, walks the chunks' checksums; no pixel is decoded."""
    what = _WHAT[content_type]
    try:
        # The format's own reader, not Image.open: that adds Pillow's bomb check, whose English message would
        # replace ours.
        with _READERS[content_type](io.BytesIO(data)) as image:
            width, height = image.size
            if content_type == "image/png":
                image.verify()
    except (OSError, ValueError, SyntaxError, EOFError, struct.error):
        raise ValidationError(_l("the file is %(what)s, truncated or corrupt; send it again", what=what),
                              details={"field": "file"}) from None
    whole = {"image/jpeg": lambda: data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda"),
             "image/webp": lambda: struct.unpack_from("<I", data, 4)[0] + 8 <= len(data)}.get(content_type)
    if whole is not None and not whole():
        raise ValidationError(_l("the file is %(what)s, truncated or corrupt; send it again", what=what),
                              details={"field": "file"})
    if width * height > MAX_PIXELS:
        raise TooLarge(_l("the image is %(width)sx%(height)s pixels; the limit is %(limit)s pixels", width=width,
                          height=height, limit=format(MAX_PIXELS, ",")),
                       details={"field": "file", "limit": MAX_PIXELS})


def _ensure_belongs(session: Session, claim_id: int, case_id: int | None, test_record_id: int | None) -> None:
    """422 naming the field when the case or test record is not one of the claim's."""
    if case_id is not None:
        found = session.scalar(select(UnitCase.claim_id).where(UnitCase.id == case_id)) \
            if 0 < case_id <= MAX_INT else None
        if found != claim_id:
            raise ValidationError(_l("case %(id)s is not a case of this claim", id=case_id),
                                  details={"field": "case_id"})
    if test_record_id is not None:
        row = session.execute(select(TestRecord.claim_id, TestRecord.case_id).where(TestRecord.id == test_record_id)
                              ).first() if 0 < test_record_id <= MAX_INT else None
        if row is None or row.claim_id != claim_id or (case_id is not None and row.case_id != case_id):
            raise ValidationError(_l("test record %(id)s is not a test of this claim", id=test_record_id),
                                  details={"field": "test_record_id"})


def _write(folder: Path, data: bytes) -> tuple[str, Path]:
    """Write `data` under a new random name in `folder`: to a temporary name first, then renamed, so the stored name
    only ever holds a whole file."""
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    final, temporary = folder / name, folder / f".{name}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return name, final


def add_attachment(session: Session, *, claim_id: int, filename: str | None, data: bytes, author: Author | None,
                   folder: Path, max_bytes: int = DEFAULT_MAX_BYTES, case_id: int | None = None,
                   test_record_id: int | None = None) -> Attachment:
    """Keep an uploaded file with a claim (and optionally one of its cases or test records): within `max_bytes`
    (413) and of an allowed type read from its bytes (415), stored under a random name in `folder` with its sha256.
    The file is removed again if the transaction does not commit. Flushes; the caller commits."""
    content_type = ensure_allowed(data, filename or "", max_bytes)
    ensure_claim_staff(author)
    claim = get_claim(session, claim_id)
    _ensure_belongs(session, claim.id, case_id, test_record_id)
    return keep_file(session, lambda kept: Attachment(claim_id=claim.id, case_id=case_id, test_record_id=test_record_id,
                                                      content_type=content_type, **kept, **author_fields(author)),
                     folder=folder, data=data, filename=filename)


def keep_file(session: Session, row_for: Callable[[dict[str, Any]], Row], *, folder: Path, data: bytes,
              filename: str | None) -> Row:
    """Write checked `data` under a random name in `folder` and add the row `row_for` makes from the file's fields
    (stored_name, filename, size, sha256). The file is removed again if the row or its transaction fails. Flushes."""
    name, path = _write(folder, data)
    session.info.setdefault(_PENDING, []).append(path)
    try:
        row = row_for({"stored_name": name, "filename": display_name(filename), "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()})
        session.add(row)
        session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return row


def stored_file(folder: Path, stored_name: str) -> Path | None:
    """The file kept under `stored_name` in `folder`, or None when the name is not one we give or the file is gone."""
    path = folder / stored_name
    return path if _STORED_NAME.fullmatch(stored_name) and path.is_file() else None


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    # Committed: the files belong to rows that now exist.
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _discard(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (after_commit would have taken the list): no row keeps these
    # files, so they go too.
    if transaction.parent is None:
        for path in session.info.pop(_PENDING, []):
            Path(path).unlink(missing_ok=True)


def get_attachment(session: Session, attachment_id: int) -> Attachment:
    """The attachment `attachment_id`; NotFound otherwise."""
    found = session.get(Attachment, attachment_id) if 0 < attachment_id <= MAX_INT else None
    if found is None:
        raise NotFound(_l("no attachment with id %(id)s", id=attachment_id))
    return found


def attachment_path(session: Session, attachment_id: int, *, folder: Path) -> tuple[Attachment, Path]:
    """The attachment and its file in `folder`; NotFound when either is missing."""
    attachment = get_attachment(session, attachment_id)
    path = stored_file(folder, attachment.stored_name)
    if path is None:
        raise NotFound(_l("the file of attachment %(id)s is missing", id=attachment_id))
    return attachment, path


def attachment_read(attachment: Attachment) -> dict[str, Any]:
    """An attachment in the shape of the API's AttachmentRead."""
    return {"id": attachment.id, "claim_id": attachment.claim_id, "case_id": attachment.case_id,
            "test_record_id": attachment.test_record_id, "filename": attachment.filename,
            "content_type": attachment.content_type, "size": attachment.size, "sha256": attachment.sha256,
            "inline": is_inline_image(attachment.content_type), "author": attachment.author,
            "at": attachment.at.isoformat()}


def list_attachments(session: Session, claim_id: int) -> list[dict[str, Any]]:
    """The claim's attachments, oldest first; NotFound for an unknown claim."""
    claim = get_claim(session, claim_id)
    return [attachment_read(a) for a in session.scalars(select(Attachment).where(Attachment.claim_id == claim.id)
                                                        .order_by(Attachment.id))]
