"""Errors the serials package raises: a serial or a serial scheme setting that breaks a rule."""

from __future__ import annotations


class SerialError(ValueError):
    """A serial or a scheme breaks a rule; `field` names the part (serial, scheme, pattern, prefix, check, key)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SerialSchemeError(SerialError):
    """A serial scheme is configured wrongly, or has no room left; `field` names the setting at fault."""
