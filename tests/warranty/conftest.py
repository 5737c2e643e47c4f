"""Fixtures of the warranty service tests: one user per role, and a claim whose returned unit has been tested."""

from __future__ import annotations

import pytest

from .tested_case import make_tested, people


@pytest.fixture
def who(session):
    """One active user per role, by role name."""
    return people(session)


@pytest.fixture
def tested(session, make_batch, who):
    """A claim with one tested case (see tested_case.make_tested), registered by the warehouse user."""
    return make_tested(session, make_batch, who["warehouse"])
