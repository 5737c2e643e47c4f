"""Every label table by the name templates pass to the `label` filter: `{{ unit.status|label("unit_status") }}`."""

from __future__ import annotations

from collections.abc import Mapping

from ..accounts.enums import ROLE_LABELS, SECURITY_EVENT_LABELS
from ..labelling.enums import PRINT_JOB_STATE_LABELS
from ..quality.recalls import CAMPAIGN_STATE_LABELS, RECALL_STATUS_LABELS
from ..station.enums import SCAN_RESULT_LABELS
from ..trace.enums import (
    BATCH_STATUS_LABELS,
    EVENT_KIND_LABELS,
    UNIT_STATUS_LABELS,
    WARRANTY_START_LABELS,
    WARRANTY_STATUS_LABELS,
)
from ..warranty.enums import (
    CHANNEL_LABELS,
    CLAIM_STATE_LABELS,
    FAILURE_MODE_LABELS,
    PRIORITY_LABELS,
    SYMPTOM_LABELS,
    UNIT_CASE_STATE_LABELS,
    VERDICT_LABELS,
)

TABLES: dict[str, Mapping[str, str]] = {
    "role": ROLE_LABELS,
    "security_event": SECURITY_EVENT_LABELS,
    "print_job_state": PRINT_JOB_STATE_LABELS,
    "scan_result": SCAN_RESULT_LABELS,
    "batch_status": BATCH_STATUS_LABELS,
    "unit_status": UNIT_STATUS_LABELS,
    "event_kind": EVENT_KIND_LABELS,
    "warranty_start": WARRANTY_START_LABELS,
    "warranty_status": WARRANTY_STATUS_LABELS,
    "claim_state": CLAIM_STATE_LABELS,
    "case_state": UNIT_CASE_STATE_LABELS,
    "channel": CHANNEL_LABELS,
    "verdict": VERDICT_LABELS,
    "priority": PRIORITY_LABELS,
    "symptom": SYMPTOM_LABELS,
    "failure_mode": FAILURE_MODE_LABELS,
    "recall_status": RECALL_STATUS_LABELS,
    "recall_state": CAMPAIGN_STATE_LABELS,
}
