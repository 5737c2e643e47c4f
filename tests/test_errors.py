"""The DomainError tree: each kind of refusal is its own branch, so a handler of one never catches another."""

from __future__ import annotations

from serialtrace.accounts.service import SignInLocked, SignInRefused
from serialtrace.errors import DomainError, PermissionDenied, Unauthorized


def test_unauthorized_and_permission_denied_are_siblings():
    """Unknown caller (401) and known caller with the wrong role (403): an `except PermissionDenied` lets a 401 by."""
    assert not issubclass(Unauthorized, PermissionDenied) and not issubclass(PermissionDenied, Unauthorized)
    assert Unauthorized.__bases__ == (DomainError,) and PermissionDenied.__bases__ == (DomainError,)
    assert (Unauthorized.status_code, Unauthorized.code) == (401, "unauthorized")
    assert (PermissionDenied.status_code, PermissionDenied.code) == (403, "forbidden")


def test_a_refused_sign_in_is_unauthorized_and_a_locked_one_is_neither():
    refused = SignInRefused("wrong user name or password")
    assert isinstance(refused, Unauthorized) and not isinstance(refused, PermissionDenied)
    assert (refused.status_code, refused.code, refused.message) == (401, "unauthorized", "wrong user name or password")
    assert not issubclass(SignInLocked, (Unauthorized, PermissionDenied))
    assert (SignInLocked.status_code, SignInLocked.code) == (429, "too_many_attempts")
