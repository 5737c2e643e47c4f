"""Shapes of the warranty domain: the full unit dossier with claims, tests and replacements; claims in and out."""

from pydantic import BaseModel, Field

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

CustomerId = trace_schemas.WholeNumber(1, description="the customer; by default the one of the unit's last shipment")


class ClaimCreate(BaseModel):
    """POST /claims: a complaint about one unit, registered at the desk."""

    serial: str = Field(max_length=64, description="the returned unit's serial or external code")
    symptom: str = Field(max_length=64, description="a symptom code (what the customer saw)")
    description: str = Field("", max_length=4000)
    channel: str = Field("desk", max_length=16, description="desk, phone, email or web")
    customer_id: CustomerId | None = None


class ClaimTransition(BaseModel):
    """POST /claims/{id}/transitions: move the claim to another state."""

    to: str = Field(max_length=24, description="the target claim state")
    reason: str = Field("", max_length=4000)


class ClaimReplace(BaseModel):
    """POST /claims/{id}/replace: hand out a replacement from stock on the spot."""

    replacement_serial: str = Field(max_length=64, description="the serial of the unit handed out")
    on_desk: bool = Field(False, description="the returned unit is at the desk: its case becomes received")


class ClaimCaseRead(BaseModel):
    """A returned serial of the claim."""

    id: int
    serial: str
    state: str
    expected_serial: str


class ClaimReplacementRead(BaseModel):
    """A unit handed out for the claim."""

    returned_serial: str
    replacement_serial: str
    created_at: str


class ClaimEventRead(BaseModel):
    """A timeline row: a state change, comment or assignment."""

    kind: str
    from_: str | None = Field(alias="from")
    to: str | None
    reason: str
    author: str
    at: str


class ClaimCustomerRead(BaseModel):
    """The claim's customer."""

    id: int
    name: str


class ClaimRead(BaseModel):
    """GET /claims/{id}: the claim with its cases, replacements, timeline and the caller's allowed transitions."""

    id: int
    number: str
    state: str
    priority: str
    symptom: str
    description: str
    channel: str
    serial: str | None
    customer: ClaimCustomerRead | None
    assignee: str | None
    opened_at: str
    closed_at: str | None
    cases: list[ClaimCaseRead]
    replacements: list[ClaimReplacementRead]
    timeline: list[ClaimEventRead]
    allowed_transitions: list[str]


class ClaimWarningRead(BaseModel):
    """Something the desk must know about the claimed unit."""

    code: str = Field(description="open_claim, out_of_warranty, batch_on_hold, batch_recalled, never_shipped")
    message: str


class ClaimCreatedRead(ClaimRead):
    """POST /claims: the new claim and its warnings."""

    warnings: list[ClaimWarningRead]


class CaseReceive(BaseModel):
    """POST /cases/{id}/receive: the receiving scan of the returned unit."""

    serial: str = Field(max_length=64, description="the serial scanned on the unit that arrived")


class CaseClaimRead(BaseModel):
    """The claim a unit case belongs to."""

    id: int
    number: str
    state: str
    priority: str


class CaseRead(BaseModel):
    """GET /cases/{id}: one returned serial of a claim, with its test procedure (null until procedures exist)."""

    id: int
    claim: CaseClaimRead
    serial: str
    expected_serial: str
    product: str
    state: str
    created_at: str
    received_at: str | None
    procedure: dict | None


class CaseReceivedRead(CaseRead):
    """POST /cases/{id}/receive: the case, received or wrong_unit; message says why for a wrong unit."""

    message: str | None


class TestQueueItem(BaseModel):
    """A case waiting at the test bench."""

    id: int
    state: str
    serial: str
    product: str
    claim_id: int
    claim: str
    priority: str
    received_at: str
    replaced: bool = Field(description="the customer already has a replacement (advance replacement)")


class TestQueueRead(BaseModel):
    """GET /test-queue: received and in-test cases, advance-replaced first, then priority, then age."""

    items: list[TestQueueItem]
