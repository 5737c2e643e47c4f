"""A warehouse user for station tests (the scan log names who scanned)."""

from __future__ import annotations

import pytest

from serialtrace.accounts import service as accounts_service


@pytest.fixture
def user(session):
    """A warehouse user, flushed in the test transaction."""
    return accounts_service.create_user(session, username="desk", role="warehouse", password="desk-pass-1")
