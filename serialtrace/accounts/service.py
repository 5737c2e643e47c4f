"""Writes of the accounts domain: users, API tokens, passwords, sessions and sign-in. Flush only; callers commit."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..columns import utcnow
from ..errors import Conflict, DomainError, NotFound, Unauthorized, ValidationError
from ..i18n import _l
from .enums import Role
from .enums import SecurityEventKind as Kind
from .models import AdminEvent, ApiToken, LoginAttempt, User
from .policy import LOCKOUT, Lockout, as_utc, ensure_language, ensure_password, ensure_role, hash_token, lock_end
from .queries import authenticate, find_user, get_user
from .security_log import logged_within, record_security_event

# Who did it, for the security log: the acting user, or a name such as "console" for the command line.
Actor = User | str | None

# Werkzeug's scrypt default; tests lower the cost through this name to stay fast.
PASSWORD_METHOD = "scrypt"

# A locked user name or address writes no rows, so a few times the limits is all a check can meet; this only
# bounds the read when many attempts race.
_ATTEMPTS_READ = 1000
# Expired attempts each sign-in removes; more than the one row it adds, so the table stays small.
_PRUNE_BATCH = 200


class SignInRefused(Unauthorized):
    """Wrong user name or password; the message never says which, so the form reveals no user names."""


class SignInLocked(DomainError):
    """Too many failed sign-ins for a user name or from an address; `until` says when to try again."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, *, until: datetime, scope: str) -> None:
        when = f"{until:%Y-%m-%d %H:%M}"
        message = (_l("too many failed sign-ins for this user name; try again after %(when)s UTC", when=when)
                   if scope == "user" else
                   _l("too many failed sign-ins from this address; try again after %(when)s UTC", when=when))
        super().__init__(message, details={"retry_at": until.isoformat(), "scope": scope})
        self.until = until
        self.scope = scope


def create_user(session: Session, *, username: str, role: str, password: str | None = None,
                display_name: str = "", email: str = "", language: str | None = None, actor: Actor = None,
                address: str = "") -> User:
    """Add a user (`language`: the pages' language, None to follow the browser), logged as a security event by
    `actor` from `address`. Flushes; the caller commits."""
    ensure_role(role)
    language = ensure_language(language)
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError(_l("user name must be 1 to 64 characters"))
    if find_user(session, username) is not None:
        raise Conflict(_l("user %(username)r already exists", username=username))
    if password is not None:
        ensure_password(password, username=username)
    user = User(username=username, role=role, display_name=display_name or username, email=email,
                language=language,
                password_hash=generate_password_hash(password, method=PASSWORD_METHOD) if password else "")
    session.add(user)
    session.flush()
    record_security_event(session, Kind.USER_CREATED, user=user, actor=actor, address=address,
                          details={"role": role})
    return user


def set_language(session: Session, user: User, *, language: str | None) -> User:
    """Show `user` the pages in `language` (a code of i18n.LANGUAGES; empty or None follows the browser); an
    unknown code is a ValidationError and changes nothing. Flushes; the caller commits."""
    user.language = ensure_language(language)
    session.flush()
    return user


def create_token(session: Session, *, name: str, user: User, actor: Actor = None, address: str = "") -> str:
    """Issue a token for `user`; returns the secret, which is not stored (the security log gets its prefix)."""
    secret = "st_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, user_id=user.id, token_hash=hash_token(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    record_security_event(session, Kind.TOKEN_CREATED, user=user, actor=actor, address=address, token=token,
                          details={"name": name})
    return secret


def revoke_tokens(session: Session, name_or_prefix: str, *, actor: Actor = None, address: str = "") -> list[ApiToken]:
    """Revoke the live tokens with this name or secret prefix; NotFound when there is none. Flushes."""
    key = (name_or_prefix or "").strip()
    found = list(session.scalars(select(ApiToken).where(or_(ApiToken.name == key, ApiToken.prefix == key),
                                                      ApiToken.revoked.is_(False)).order_by(ApiToken.id)))
    if not key or not found:
        raise NotFound(_l("no live API token named %(name_or_prefix)r or starting with it",
                          name_or_prefix=name_or_prefix))
    for token in found:
        token.revoked = True
        _token_revoked(session, token, actor=actor, address=address)
    session.flush()
    return found


def _token_revoked(session: Session, token: ApiToken, *, actor: Actor, address: str) -> None:
    record_security_event(session, Kind.TOKEN_REVOKED, user=session.get(User, token.user_id), actor=actor,
                          address=address, token=token, details={"name": token.name})


def deactivate_user(session: Session, username: str, *, actor: Actor = None, address: str = "") -> User:
    """Stop a user from logging in or using their tokens, ending their sessions; history keeps the name. Flushes."""
    user = get_user(session, username)
    _ensure_admin_remains(session, user)
    user.active = False
    end_sessions(session, user)
    record_security_event(session, Kind.USER_DEACTIVATED, user=user, actor=actor, address=address)
    return user


def set_password(session: Session, user: User, *, password: str, actor: Actor = None, address: str = "") -> None:
    """Give `user` a new password that passes the rule, ending all their sessions. Flushes."""
    ensure_password(password, username=user.username)
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    end_sessions(session, user)
    by_self = isinstance(actor, User) and actor.id == user.id
    record_security_event(session, Kind.PASSWORD_CHANGED, user=user, actor=actor, address=address,
                          details={"by": "self" if by_self else "other"})


def log_out(session: Session, user: User, *, address: str = "") -> None:
    """End every session of `user` (on every device) at their own request, logged. Flushes."""
    end_sessions(session, user)
    record_security_event(session, Kind.LOGOUT, user=user, actor=user, address=address)


def end_sessions(session: Session, user: User) -> None:
    """End every login session of `user` on every device: their cookies now carry an old version. Flushes."""
    # Incremented in SQL so two logouts at once cannot both write the same new number.
    user.session_version = User.session_version + 1
    session.flush()


def sign_in(session: Session, *, username: str, password: str, address: str, commit: Callable[[], None],
            now: datetime | None = None, lockout: Lockout = LOCKOUT, purpose: str = "login") -> User:
    """The active user with this name and password, under the lockout rules.

    The attempt is committed (through `commit`) before the password is checked, so that attempts running at the
    same time in other processes count it; every outcome is committed the same way, with its security event (a
    success is logged only for `purpose` "login": a checked current password is logged by what it allows).

    Raises:
        SignInLocked: the user name or the address is locked (even when the password is right).
        SignInRefused: wrong password, or an unknown, inactive or password-less user (one message for all).
    """
    now = now or utcnow()
    key, address = username[:64], (address or "")[:64]
    try:
        _ensure_not_locked(session, key=key, address=address, now=now, lockout=lockout)
    except SignInLocked as exc:
        if _log_refusal(session, key=key, address=address, now=now, locked=exc, purpose=purpose):
            commit()
        raise
    attempt = LoginAttempt(username=key, address=address, at=now)
    session.add(attempt)
    _prune_attempts(session, before=now - lockout.window - lockout.duration)
    session.flush()
    attempt_id = attempt.id
    commit()
    try:
        _ensure_not_locked(session, key=key, address=address, now=now, lockout=lockout, exclude=attempt_id)
    except SignInLocked as exc:
        # Refused unchecked, so not a failure: hammering a locked name does not make its lockout longer.
        _delete_attempt(session, attempt_id)
        _log_refusal(session, key=key, address=address, now=now, locked=exc, purpose=purpose)
        commit()
        raise
    user = authenticate(session, username=username, password=password)
    if user is None:
        _log_failure(session, key=key, address=address, now=now, lockout=lockout, purpose=purpose)
        commit()
        raise SignInRefused(_l("wrong user name or password"))
    _delete_attempt(session, attempt_id)
    clear_failures(session, key)
    if purpose == "login":
        record_security_event(session, Kind.LOGIN_SUCCEEDED, username=key, user=user, address=address, at=now)
    commit()
    return user


def _purpose(purpose: str) -> dict[str, Any]:
    return {} if purpose == "login" else {"purpose": purpose}


def _failure_reason(session: Session, username: str) -> str:
    """Why a password check failed, for the admins' log only (the form says the same thing for all)."""
    user = find_user(session, username)
    if user is None:
        return "unknown_user"
    if not user.active:
        return "inactive_user"
    return "no_password" if not user.password_hash else "wrong_password"


def _log_failure(session: Session, *, key: str, address: str, now: datetime, lockout: Lockout,
                 purpose: str) -> None:
    """Log a failed check, and the lockout it sets off when it is the failure that locks the name or address."""
    user = find_user(session, key)
    record_security_event(session, Kind.LOGIN_FAILED, username=key, user=user, address=address, at=now,
                          details={"reason": _failure_reason(session, key), **_purpose(purpose)})
    try:
        _ensure_not_locked(session, key=key, address=address, now=now, lockout=lockout)
    except SignInLocked as exc:
        record_security_event(session, Kind.LOCKOUT_STARTED, username=key, user=user, address=address, at=now,
                              details={"scope": exc.scope, "until": exc.until.isoformat(), **_purpose(purpose)})


# A locked name or address refused again within this time writes no second row: hammering a lock must not grow
# an append-only table that is never pruned (the lockout itself writes nothing for the same reason).
LOCKED_REFUSAL_EVERY = timedelta(minutes=1)


def _log_refusal(session: Session, *, key: str, address: str, now: datetime, locked: SignInLocked,
                 purpose: str) -> bool:
    """Log a sign-in refused as locked, at most once a minute per name and address; True when a row was added."""
    if logged_within(session, Kind.LOGIN_LOCKED, since=now - LOCKED_REFUSAL_EVERY, username=key, address=address):
        return False
    record_security_event(session, Kind.LOGIN_LOCKED, username=key, user=find_user(session, key), address=address,
                          at=now, details={"scope": locked.scope, "until": locked.until.isoformat(),
                                           **_purpose(purpose)})
    return True


def clear_failures(session: Session, username: str, *, actor: Actor = None, address: str = "") -> int:
    """Forget the failed sign-ins counted against a user name (they still count for their address); an admin's
    unlock (an `actor` given) goes to the security log. Flushes."""
    result = session.execute(update(LoginAttempt).where(LoginAttempt.username == username).values(username=None)
                             .execution_options(synchronize_session=False))
    if actor is not None:
        record_security_event(session, Kind.LOCKOUT_CLEARED, username=username, user=find_user(session, username),
                              actor=actor, address=address, details={"failures": result.rowcount})
    session.flush()
    return result.rowcount


def _ensure_not_locked(session: Session, *, key: str, address: str, now: datetime, lockout: Lockout,
                       exclude: int | None = None) -> None:
    """Raise SignInLocked when the attempts on record (but `exclude`) lock the user name or the address now."""
    horizon = now - lockout.window - lockout.duration
    stmt = (select(LoginAttempt.username, LoginAttempt.address, LoginAttempt.at)
            .where(LoginAttempt.at > horizon, or_(LoginAttempt.username == key, LoginAttempt.address == address)))
    if exclude is not None:
        stmt = stmt.where(LoginAttempt.id != exclude)
    rows = session.execute(stmt.order_by(LoginAttempt.at.desc()).limit(_ATTEMPTS_READ)).all()
    for scope, limit, times in (("user", lockout.per_user, [r.at for r in rows if r.username == key]),
                                ("address", lockout.per_address, [r.at for r in rows if r.address == address])):
        until = lock_end(sorted(as_utc(t) for t in times), limit=limit, window=lockout.window,
                         duration=lockout.duration)
        if until is not None and until > now:
            raise SignInLocked(until=until, scope=scope)


def _delete_attempt(session: Session, attempt_id: int) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id)
                    .execution_options(synchronize_session=False))


def _prune_attempts(session: Session, *, before: datetime) -> None:
    """Delete a batch of attempts too old to matter."""
    # SKIP LOCKED: two sign-ins pruning at once on PostgreSQL take different rows instead of waiting or
    # deadlocking on each other (SQLite writes one at a time and ignores the clause).
    old = (select(LoginAttempt.id).where(LoginAttempt.at < before).limit(_PRUNE_BATCH)
           .with_for_update(skip_locked=True))
    session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(old.scalar_subquery()))
                    .execution_options(synchronize_session=False))


def _active_admins(session: Session) -> int:
    return len(session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))).all())


def _ensure_admin_remains(session: Session, user: User) -> None:
    """Conflict when `user` is the last active admin: without one, nobody could reach the admin area again."""
    if user.active and user.role == Role.ADMIN and _active_admins(session) <= 1:
        raise Conflict(_l("%(name)s is the last active admin; make another user admin first", name=user.username),
                       details={"field": "user"})


def change_role(session: Session, user: User, *, role: str, actor: Actor = None, address: str = "") -> User:
    """Give `user` another role; their sessions end, so the new rights apply on the next page. Flushes."""
    ensure_role(role)
    if role == user.role:
        return user
    if role != Role.ADMIN:
        _ensure_admin_remains(session, user)
    before = user.role
    user.role = role
    end_sessions(session, user)
    record_security_event(session, Kind.ROLE_CHANGED, user=user, actor=actor, address=address,
                          details={"before": before, "after": role})
    return user


def reactivate_user(session: Session, user: User, *, actor: Actor = None, address: str = "") -> User:
    """Let a deactivated user log in (and use their tokens) again; nothing else of theirs changes. Flushes."""
    if user.active:
        raise Conflict(_l("user %(name)s is already active", name=user.username), details={"field": "user"})
    user.active = True
    session.flush()
    record_security_event(session, Kind.USER_REACTIVATED, user=user, actor=actor, address=address)
    return user


def revoke_token(session: Session, token_id: int, *, actor: Actor = None, address: str = "") -> ApiToken:
    """Revoke one token by its id; NotFound when there is none, Conflict when it was revoked already. Flushes."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_l("no API token %(id)s", id=token_id), details={"field": "token"})
    if token.revoked:
        raise Conflict(_l("API token %(name)s is revoked already", name=token.name), details={"field": "token"})
    token.revoked = True
    session.flush()
    _token_revoked(session, token, actor=actor, address=address)
    return token


def record_admin_event(session: Session, *, author: User | None, action: str, subject: str,
                       details: dict[str, Any] | None = None) -> AdminEvent:
    """Append who did which admin action on what, in the caller's transaction. Flushes."""
    event = AdminEvent(author_id=getattr(author, "id", None), author=getattr(author, "username", "") or "system",
                       action=action, subject=subject[:200], details=details or {})
    session.add(event)
    session.flush()
    return event
