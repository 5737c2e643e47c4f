"""Roles a user can hold; StrEnum so stored values read well in SQL."""

from enum import StrEnum

from ..i18n import _l


class Role(StrEnum):
    WAREHOUSE = "warehouse"
    COORDINATOR = "coordinator"
    ENGINEER = "engineer"
    QUALITY = "quality"
    SUPERVISOR = "supervisor"
    PRODUCTION = "production"
    ADMIN = "admin"


# Every role name, in the order the messages list them.
ROLES: tuple[str, ...] = tuple(role.value for role in Role)

# What each role is called on a page (value -> label, translated where shown).
ROLE_LABELS: dict[str, str] = {
    Role.WAREHOUSE: _l("Warehouse"),
    Role.COORDINATOR: _l("Claims coordinator"),
    Role.ENGINEER: _l("Service engineer"),
    Role.QUALITY: _l("Quality manager"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.PRODUCTION: _l("Production"),
    Role.ADMIN: _l("Administrator"),
}


class SecurityEventKind(StrEnum):
    """What a security_event row records."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    # A sign-in refused unchecked because the user name or the address is locked.
    LOGIN_LOCKED = "login_locked"
    # The failure that set off a lockout.
    LOCKOUT_STARTED = "lockout_started"
    # An admin forgot a user name's failed sign-ins, ending its lockout.
    LOCKOUT_CLEARED = "lockout_cleared"
    LOGOUT = "logout"
    USER_CREATED = "user_created"
    ROLE_CHANGED = "role_changed"
    PASSWORD_CHANGED = "password_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    TOKEN_USED = "token_used"
    # An API call with a made-up, mistyped or revoked token (at most one row a minute per address).
    TOKEN_REJECTED = "token_rejected"
    CUSTOMER_EXPORT = "customer_export"
    # A download of this log itself.
    SECURITY_LOG_EXPORT = "security_log_export"


SECURITY_EVENT_KINDS: tuple[str, ...] = tuple(kind.value for kind in SecurityEventKind)

SECURITY_EVENT_LABELS: dict[str, str] = {
    SecurityEventKind.LOGIN_SUCCEEDED: _l("Signed in"),
    SecurityEventKind.LOGIN_FAILED: _l("Sign-in failed"),
    SecurityEventKind.LOGIN_LOCKED: _l("Sign-in refused: locked"),
    SecurityEventKind.LOCKOUT_STARTED: _l("Lockout started"),
    SecurityEventKind.LOCKOUT_CLEARED: _l("Lockout cleared"),
    SecurityEventKind.LOGOUT: _l("Logged out"),
    SecurityEventKind.USER_CREATED: _l("User added"),
    SecurityEventKind.ROLE_CHANGED: _l("Role changed"),
    SecurityEventKind.PASSWORD_CHANGED: _l("Password changed"),
    SecurityEventKind.USER_DEACTIVATED: _l("User deactivated"),
    SecurityEventKind.USER_REACTIVATED: _l("User reactivated"),
    SecurityEventKind.TOKEN_CREATED: _l("API token created"),
    SecurityEventKind.TOKEN_REVOKED: _l("API token revoked"),
    SecurityEventKind.TOKEN_USED: _l("API token used"),
    SecurityEventKind.TOKEN_REJECTED: _l("API token refused"),
    SecurityEventKind.CUSTOMER_EXPORT: _l("Customer data exported"),
    SecurityEventKind.SECURITY_LOG_EXPORT: _l("Security log downloaded"),
}
