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
