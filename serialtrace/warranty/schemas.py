"""Output shapes of the warranty domain: the full unit dossier with claims, tests and replacements."""

from pydantic import BaseModel

from ..trace import schemas as trace_schemas


class UnitClaimRead(BaseModel):
    """A claim against the unit."""

    id: int
    number: str
    state: str
    symptom: str
    description: str
    priority: str
    opened_at: str
    closed_at: str | None


class UnitTestRead(BaseModel):
    """A test record of the unit."""

    id: int
    claim_id: int | None
    claim_number: str | None
    verdict: str
    failure_mode: str
    root_cause: str
    notes: str
    tested_at: str
    engineer: str | None


class ReplacementRead(BaseModel):
    """A replacement in which the unit was returned or handed out."""

    claim_id: int | None
    claim_number: str | None
    returned_serial: str
    replacement_serial: str
    role: str
    created_at: str


class UnitDossierRead(trace_schemas.TraceDossierRead):
    """GET /units/{serial}: everything known about one unit."""

    claims: list[UnitClaimRead]
    tests: list[UnitTestRead]
    replacements: list[ReplacementRead]
