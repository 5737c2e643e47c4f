"""Roles a user can hold; StrEnum so stored values read well in SQL."""

from enum import StrEnum


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
