"""Shapes of the warranty domain: the full unit dossier with claims, tests and replacements; claims in and out."""

from pydantic import BaseModel, Field

from ..trace import schemas as trace_schemas
from ..trace.schemas import Text

# Text the database can hold (no NUL, no lone surrogates): codes without control characters; serials as scanned
# (GS1 data keeps its GS separators) and free text (several lines) without NUL.
Code = Text(length=64)
Scanned = Text(length=64, controls=True)
Notes = Text(length=4000, controls=True)
Name = Text(length=200)


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

    serial: Scanned = Field(description="the returned unit's serial or external code")
    symptom: Code = Field(description="a symptom code (what the customer saw)")
    description: Notes = ""
    channel: Text(length=16) = Field("desk", description="desk, phone, email or web")
    customer_id: CustomerId | None = None
    confirm_own_customer: bool = Field(False, description="true when you are the customer's account manager and "
                                                          "register the complaint anyway (logged on the claim)")
    impact: int = Field(2, ge=1, le=3, strict=True, description="1 high, 2 medium, 3 low; with urgency it gives "
                                                                 "the priority (P1 to P4)")
    urgency: int = Field(2, ge=1, le=3, strict=True, description="1 high, 2 medium, 3 low")


class ClaimTransition(BaseModel):
    """POST /claims/{id}/transitions: move the claim to another state."""

    to: Text(length=24) = Field(description="the target claim state")
    reason: Notes = ""
    confirm_own_customer: bool = Field(False, description="registering a draft: true when you are the customer's "
                                                          "account manager and register it anyway (logged)")


class ClaimReplace(BaseModel):
    """POST /claims/{id}/replace: hand out a replacement from stock on the spot."""

    replacement_serial: Scanned = Field(description="the serial of the unit handed out (or its GS1 label)")
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
    """A timeline entry (warranty.timeline): a state change or case step (from, to), a comment, a test record, a
    replacement, an attachment or a disposition step, with its author and time; the kind's own keys are present
    only on that kind."""

    kind: str = Field(description="state_change, case_state, test, comment, test_record, replacement, attachment, "
                                  "disposition, assignment, priority")
    from_: str | None = Field(alias="from")
    to: str | None
    reason: str
    author: str
    at: str
    visibility: str = Field("internal", description="internal, or customer: the customer may see it")
    body: str | None = Field(None, description="comment: its text")
    comment_id: int | None = None
    record_id: int | None = Field(None, description="test_record: the record")
    verdict: str | None = None
    engineer: str | None = None
    failure_mode: str | None = None
    root_cause: str | None = None
    supersedes_id: int | None = None
    returned_serial: str | None = Field(None, description="replacement: the unit returned")
    replacement_serial: str | None = Field(None, description="replacement: the unit handed out")
    attachment_id: int | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    case_id: int | None = None
    test_record_id: int | None = None
    disposition_id: int | None = None
    disposition: str | None = Field(None, description="disposition: its kind")
    action: str | None = Field(None, description="disposition: proposed, approved, rejected or executed")
    value: str | None = None
    needs_approval: bool | None = None


class ClaimCustomerRead(BaseModel):
    """The claim's customer."""

    id: int
    name: str


class ClaimStageRead(BaseModel):
    """The claim's open stage task."""

    stage: str = Field(description="triage, return, inspection, decision, fulfilment or verification")
    assignee: str | None
    team: str | None
    opened_at: str
    due_at: str | None = Field(description="when the stage's clock runs out; null while it is paused")
    priority: str


class ClaimClockRead(BaseModel):
    """An SLA clock of the claim's current cycle, in business seconds at the moment of the read."""

    kind: str = Field(description="resolution or stage")
    stage: str | None = Field(description="the stage of a stage clock")
    state: str = Field(description="running, paused or stopped")
    target_seconds: float
    elapsed_seconds: float
    remaining_seconds: float = Field(description="negative once overdue")
    breached: bool
    percent: float = Field(description="elapsed time as a percentage of the target")
    due_at: str | None = Field(description="null unless running")


class ClaimStatutoryRead(BaseModel):
    """The consumer-law deadline in calendar days from registration; it never pauses."""

    due_at: str
    remaining_seconds: float
    breached: bool


class ClaimSurveyRead(BaseModel):
    """The customer survey of the claim's last closing."""

    sent: bool = Field(description="the mail went out (mail_state sent)")
    mail_state: str = Field(description="pending, sending, sent, or none (no address)")
    answered_at: str | None
    resolved: bool | None
    score: int | None = Field(description="1 to 5, when the customer gave one")


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
    survey: ClaimSurveyRead | None = Field(None, description="the survey sent when the claim closed, if any")
    stage: ClaimStageRead | None
    team: str | None
    impact: int = Field(description="1 (high) to 3 (low)")
    urgency: int = Field(description="1 (high) to 3 (low)")
    cycle: int = Field(description="the SLA cycle: 1, one more at every reopening")
    clocks: list[ClaimClockRead]
    statutory: ClaimStatutoryRead | None


class ClaimReassign(BaseModel):
    """POST /claims/{id}/reassign: hand the claim's current stage to a user and/or a team, with a reason."""

    username: Text(length=64) | None = Field(None, description="an active user to hand the claim to")
    team: Text(length=100) | None = Field(None, description="an active team; alone, the claim goes to the team "
                                                            "with nobody in particular")
    reason: Notes = Field(description="why (kept in the timeline)")


class ClaimPriority(BaseModel):
    """POST /claims/{id}/priority: impact and urgency (the priority follows) or the priority itself, with a
    reason."""

    impact: trace_schemas.WholeNumber(1, 3, description="1 (high) to 3 (low)") | None = None
    urgency: trace_schemas.WholeNumber(1, 3, description="1 (high) to 3 (low)") | None = None
    priority: Text(length=8) | None = Field(None, description="P1 to P4, instead of impact and urgency")
    reason: Notes = Field(description="why (kept in the timeline)")


class ClaimWarningRead(BaseModel):
    """Something the desk must know about the claimed unit."""

    code: str = Field(description="open_claim, out_of_warranty, batch_on_hold, batch_recalled, never_shipped")
    message: str


class ClaimCreatedRead(ClaimRead):
    """POST /claims: the new claim and its warnings."""

    warnings: list[ClaimWarningRead]


class CaseReceive(BaseModel):
    """POST /cases/{id}/receive: the receiving scan of the returned unit."""

    serial: Scanned = Field(description="the serial (or GS1 label) scanned on the unit that arrived")


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
    return_due: str | None = None
    engineer: str | None = Field(default=None, description="the engineer who took the case into test")
    taken_at: str | None = None
    verdict: str | None = Field(default=None, description="the verdict of the case's current test record")
    procedure: "ProcedureRead | None"


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
    engineer: str | None = Field(default=None, description="the engineer who took the case into test, if any")


class TestQueueRead(BaseModel):
    """GET /test-queue: received and in-test cases, advance-replaced first, then priority, then age."""

    items: list[TestQueueItem]


class FailureCodeItem(BaseModel):
    """One code of a failure-code list, its name in the reader's language."""

    code: str
    name: str
    active: bool | None = Field(default=None, description="only with ?all=true: false for a retired code")


class FailureCodesRead(BaseModel):
    """GET /failure-codes: the five code lists."""

    symptom: list[FailureCodeItem]
    mode: list[FailureCodeItem]
    cause: list[FailureCodeItem]
    location: list[FailureCodeItem]
    action: list[FailureCodeItem]


class FailureCodesQuery(BaseModel):
    """Which codes to list."""

    all: bool = Field(False, description="true: retired codes too, each with its active flag")


class FailureCodeCreate(BaseModel):
    """POST /failure-codes: a new code at the end of a list."""

    list: Text(length=16) = Field(description="symptom, mode, cause, location or action")
    code: Code = Field(description="lower-case letters, digits, _ . -")
    name: Name


class FailureCodeUpdate(BaseModel):
    """PATCH /failure-codes/{list}/{code}: rename, retire (active false) or reactivate."""

    name: Name | None = None
    active: bool | None = None


class FailureCodeRead(BaseModel):
    """A failure code as stored."""

    list: str
    code: str
    name: str
    active: bool


class FailureCodeImportRead(BaseModel):
    """POST /failure-codes/import: what the file changed."""

    added: int
    updated: int
    unchanged: int


class ProcedureStepIn(BaseModel):
    """A step of a test procedure: pass/fail, or a measured value with a unit and limits."""

    name: Name
    kind: Text(length=16) = Field(description="pass_fail or measure")
    low: float | None = Field(None, description="measure: lowest value that passes")
    high: float | None = Field(None, description="measure: highest value that passes")
    unit: Text(length=32) | None = Field(None, description="measure: the value's unit (V, mA, bar)")


class ProcedureCreate(BaseModel):
    """POST /products/{sku}/procedure: publish the next version of the product's test procedure."""

    steps: list[ProcedureStepIn] = Field(max_length=100)


class ProcedureStepRead(BaseModel):
    """A procedure step as published."""

    name: str
    kind: str
    low: float | None
    high: float | None
    unit: str | None


class ProcedureRead(BaseModel):
    """One version of a product's test procedure."""

    version: int
    steps: list[ProcedureStepRead]


class ProductProcedureRead(BaseModel):
    """GET /products/{sku}/procedure: the product's current procedure, or null when it has none."""

    product: str
    procedure: ProcedureRead | None


class TestStepIn(BaseModel):
    """An engineer's result of one procedure step: passed for a pass/fail step, the value for a measure step."""

    name: Name
    passed: bool | None = None
    value: float | None = None


class TestFailureIn(BaseModel):
    """Failure codes of the test, each from its list (GET /failure-codes); empty when not given."""

    symptom: Code = ""
    mode: Code = ""
    cause: Code = ""
    location: Code = ""
    action: Code = ""


class TestCreate(BaseModel):
    """POST /cases/{id}/tests: the test record of a received or in-test case (or a correction of one)."""

    verdict: Text(length=24) = Field(description="confirmed_defect, no_fault_found, not_covered, transport_damage")
    steps: list[TestStepIn] = Field(default_factory=list, max_length=100)
    failure: TestFailureIn = Field(default_factory=TestFailureIn)
    notes: Notes = ""
    supersedes: int | None = Field(None, description="id of the record of this case that this one corrects")
    procedure_version: int | None = Field(
        None, ge=0, le=2_147_483_647,
        description="the procedure version the steps were typed against (0: none); 409 when the current one differs")


class TestStepRead(BaseModel):
    """A step's result as recorded, with the limits it was judged by."""

    name: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    passed: bool


class TestFailureRead(BaseModel):
    """The failure codes of a record."""

    symptom: str
    mode: str
    cause: str
    location: str
    action: str


class TestRecordRead(BaseModel):
    """A test record with its steps; superseded_by names the correction that replaced it (null: the current one)."""

    id: int
    verdict: str
    notes: str
    tested_at: str
    engineer: str | None
    procedure_version: int | None
    supersedes: int | None
    superseded_by: int | None
    codes: TestFailureRead
    steps: list[TestStepRead]


class TestRecordsRead(BaseModel):
    """GET /cases/{id}/tests: the case's records, newest first, superseded ones marked by superseded_by."""

    items: list[TestRecordRead]


class BenchClaimRead(BaseModel):
    """The claim's state after a test or an expired return."""

    id: int
    number: str
    state: str
    billed_amount: str | None
    billed_at: str | None


class BenchWarningRead(BaseModel):
    """Something the engineer or the office must know (no_price: billed without an amount)."""

    code: str
    message: str


class TestCreatedRead(BaseModel):
    """POST /cases/{id}/tests: the record, the case and the claim as they now are."""

    record: TestRecordRead
    case: "CaseRead"
    claim: BenchClaimRead
    warnings: list[BenchWarningRead]


class ExpiredReturnRead(BaseModel):
    """A case whose return deadline passed, and where its claim went."""

    case_id: int
    serial: str
    return_due: str
    claim: BenchClaimRead
    warnings: list[BenchWarningRead]


class ExpiredReturnsRead(BaseModel):
    """POST /claims/expire-returns: the cases moved to not_returned by this run."""

    moved: list[ExpiredReturnRead]


class BilledClaimRead(BaseModel):
    """A billed claim for the ERP: what to invoice whom."""

    id: int
    number: str
    customer: str | None
    customer_tax_id: str | None
    serial: str
    product: str
    amount: str | None = Field(description="decimal as text; null when the product has no price")
    billed_at: str
    verdict: str | None = Field(description="the verdict that billed it; null when the unit never came back")


class BilledClaimsRead(BaseModel):
    """GET /claims/billed: billed claims, oldest bill first."""

    items: list[BilledClaimRead]


class BilledQuery(BaseModel):
    """Which billed claims to list."""

    since: str | None = Field(None, description="only bills from this moment (ISO date or date-time)")


# Shapes named above before their definition.
CaseRead.model_rebuild()
CaseReceivedRead.model_rebuild()
TestCreatedRead.model_rebuild()


class ExpireReturns(BaseModel):
    """POST /claims/expire-returns: the day to judge deadlines by; send {} for today."""

    # The body holds one option: anything else is a mistaken call, refused rather than run as a plain one.
    model_config = {"extra": "forbid"}

    today: trace_schemas.BusinessDate | None = Field(
        None, description="the day whose earlier deadlines are past (a missed run's day); not after today")
