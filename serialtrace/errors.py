"""Domain errors raised below `web`; `web` turns them into JSON envelopes or flashed messages."""

from __future__ import annotations

from typing import Any

from .i18n import Message, message_of


class DomainError(Exception):
    """Base of every error a user can cause; carries an HTTP status and a machine-readable code.

    The message is a message id (an English template with %(name)s placeholders, marked with `i18n._l`) filled
    with `params`; str() and `.message` read English, `web` shows it in the reader's language.
    """

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, **params: Any) -> None:
        text: Message = Message(message, **params) if params else message_of(message)
        super().__init__(text)
        self.message = text
        self.details = details


class ValidationError(DomainError):
    """Input that breaks a rule (format, range, missing field)."""

    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The action clashes with existing data (duplicate serial, concurrent change)."""

    status_code = 409
    code = "conflict"


class Contention(Conflict):
    """Another action held the same rows or the database's write lock; nothing was changed, so trying again works."""

    code = "busy"


class InvalidTransition(Conflict):
    """A state machine refuses the requested change."""

    code = "invalid_transition"


class Unauthorized(DomainError):
    """No valid login or API token: who is asking is unknown (not a kind of PermissionDenied, which knows them)."""

    status_code = 401
    code = "unauthorized"


class PermissionDenied(DomainError):
    """The user is known, but their role does not allow the action."""

    status_code = 403
    code = "forbidden"


class ImportFailed(ValidationError):
    """An import file has bad rows; details lists them with line numbers."""

    code = "import_failed"


class AppendOnly(Conflict):
    """An UPDATE or DELETE of a history row, refused by the database's triggers; corrections are new rows."""

    code = "append_only"
    # The database's refusal message (migrate.append_only_ddl); db recognises it in the driver's error.
    TEMPLATE = "{table} is append-only: its rows are never updated or deleted; record a correcting entry instead"


class TooLarge(DomainError):
    """An upload over a size limit; the message names the limit."""

    status_code = 413
    code = "too_large"


class UnsupportedType(DomainError):
    """An upload whose content is not of an allowed type; the message names the types allowed."""

    status_code = 415
    code = "unsupported_type"


class InvalidScan(ValidationError):
    """Scanned text that cannot be read as what it claims to be; details name the offending part."""

    code = "invalid_scan"


class ImageRejected(InvalidScan):
    """An upload that is not a readable image of a sensible size."""

    code = "invalid_image"


class ImageTooLarge(ImageRejected):
    """An image over the byte or pixel limit."""

    status_code = 413
    code = "image_too_large"


class DecoderBusy(ImageRejected):
    """Every image decoder stayed busy past the deadline: try again, the image may be fine."""

    status_code = 503
    code = "decoder_busy"
