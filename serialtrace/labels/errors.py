"""Errors the labels package raises: bad label input and printer failures."""

from __future__ import annotations


class LabelError(ValueError):
    """Label data or a template breaks a rule; names the field and the rule."""

    def __init__(self, field: str, rule: str, *, index: int | None = None) -> None:
        where = field if index is None else f"label {index}: {field}"
        super().__init__(f"{where}: {rule}")
        self.field = field
        self.rule = rule
        self.index = index


class PrinterError(OSError):
    """A print job could not be delivered to the printer."""

    def __init__(self, message: str, *, host: str, port: int, attempts: int) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.attempts = attempts
