"""OpenAPI links: how an answer's ids lead to the next calls (a claim to its case, a case to its test, ...).

Clients and stateful test tools follow them; each names its source and target by method and path, and the
document gets the operationIds flask-openapi3 gave those operations, so a renamed handler cannot break a link
unnoticed (add_links raises on a link whose end is not in the document).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Link(NamedTuple):
    """One link: from an answer of (method, path) with `status` to the operation (method, path)."""

    source: tuple[str, str, str]
    name: str
    target: tuple[str, str]
    parameters: dict[str, str]
    body: dict[str, Any] | None = None


_CLAIM_ID = {"path.id": "$response.body#/id"}
_CASE_ID = {"path.id": "$response.body#/id"}
# A claim's first case is the returned unit's case (a claim is registered against one unit).
_FIRST_CASE = {"path.id": "$response.body#/cases/0/id"}
_CLAIM = ("post", "/claims", "201")
_REPLACE = ("post", "/claims/{id}/replace", "201")
_CASE = ("get", "/cases/{id}", "200")
_RECEIVE = ("post", "/cases/{id}/receive", "200")
_TAKE = ("post", "/cases/{id}/take", "200")

LINKS: tuple[Link, ...] = (
    # A new claim: read it, replace its unit, move it on, comment, look at its case.
    Link(_CLAIM, "GetClaim", ("get", "/claims/{id}"), _CLAIM_ID),
    Link(_CLAIM, "ReplaceUnit", ("post", "/claims/{id}/replace"), _CLAIM_ID),
    Link(_CLAIM, "Transition", ("post", "/claims/{id}/transitions"), _CLAIM_ID),
    Link(_CLAIM, "Comment", ("post", "/claims/{id}/comments"), _CLAIM_ID),
    Link(_CLAIM, "Suggestions", ("get", "/claims/{id}/suggestions"), _CLAIM_ID),
    Link(_CLAIM, "GetCase", ("get", "/cases/{id}"), _FIRST_CASE),
    # After a replacement the returned unit's case is the next stop (received when it was on the desk).
    Link(_REPLACE, "GetCase", ("get", "/cases/{id}"), _FIRST_CASE),
    Link(_REPLACE, "GetClaim", ("get", "/claims/{id}"), _CLAIM_ID),
    Link(("post", "/claims/{id}/transitions", "200"), "GetClaim", ("get", "/claims/{id}"), _CLAIM_ID),
    # A case: receive the unit it expects, take it into test, record the test, read its records and dispositions.
    Link(_CASE, "Receive", ("post", "/cases/{id}/receive"), _CASE_ID,
         {"serial": "$response.body#/expected_serial"}),
    Link(_CASE, "Take", ("post", "/cases/{id}/take"), _CASE_ID),
    Link(_CASE, "RecordTest", ("post", "/cases/{id}/tests"), _CASE_ID),
    Link(_CASE, "GetTests", ("get", "/cases/{id}/tests"), _CASE_ID),
    Link(_CASE, "GetDispositions", ("get", "/cases/{id}/dispositions"), _CASE_ID),
    Link(_CASE, "GetClaim", ("get", "/claims/{id}"), {"path.id": "$response.body#/claim/id"}),
    Link(_RECEIVE, "Take", ("post", "/cases/{id}/take"), _CASE_ID),
    Link(_RECEIVE, "RecordTest", ("post", "/cases/{id}/tests"), _CASE_ID),
    Link(_TAKE, "RecordTest", ("post", "/cases/{id}/tests"), _CASE_ID),
    Link(("post", "/cases/{id}/tests", "201"), "GetCase", ("get", "/cases/{id}"),
         {"path.id": "$response.body#/case/id"}),
    Link(("post", "/cases/{id}/dispositions", "201"), "Decide", ("post", "/dispositions/{id}/decision"),
         {"path.id": "$response.body#/id"}),
    Link(("post", "/cases/{id}/dispositions", "201"), "Execute", ("post", "/dispositions/{id}/execute"),
         {"path.id": "$response.body#/id"}),
    Link(("post", "/claims/{id}/attachments", "201"), "GetAttachment", ("get", "/attachments/{id}"),
         {"path.id": "$response.body#/id"}),
    # Batches and their labels.
    Link(("post", "/batches", "201"), "GetBatch", ("get", "/batches/{number}"),
         {"path.number": "$response.body#/batch"}),
    Link(("post", "/batches", "201"), "Labels", ("post", "/batches/{number}/labels"),
         {"path.number": "$response.body#/batch"}),
    Link(("post", "/batches", "201"), "Recall", ("get", "/batches/{number}/recall"),
         {"path.number": "$response.body#/batch"}),
    Link(("get", "/batches/{number}", "200"), "Labels", ("post", "/batches/{number}/labels"),
         {"path.number": "$response.body#/number"}),
    Link(("get", "/batches/{number}", "200"), "PrintJobs", ("get", "/print-jobs"),
         {"query.batch": "$response.body#/number"}),
    Link(("post", "/print-jobs", "201"), "Resume", ("post", "/print-jobs/{id}/resume"),
         {"path.id": "$response.body#/id"}),
    Link(("post", "/print-jobs", "201"), "BatchJobs", ("get", "/print-jobs"),
         {"query.batch": "$response.body#/batch"}),
    # Quality records created over the API and read back by their key.
    Link(("post", "/eightd", "201"), "GetEightD", ("get", "/eightd/{number}"),
         {"path.number": "$response.body#/number"}),
    Link(("post", "/eightd", "201"), "Close", ("post", "/eightd/{number}/close"),
         {"path.number": "$response.body#/number"}, {"version": "$response.body#/version"}),
    Link(("post", "/knowledge", "201"), "GetArticle", ("get", "/knowledge/{id}"), {"path.id": "$response.body#/id"}),
    Link(("post", "/knowledge", "201"), "Versions", ("get", "/knowledge/{id}/versions"),
         {"path.id": "$response.body#/id"}),
    Link(("post", "/recalls", "201"), "GetRecall", ("get", "/recalls/{number}"),
         {"path.number": "$response.body#/number"}),
    Link(("post", "/calendars", "201"), "GetCalendar", ("get", "/calendars/{id}"), {"path.id": "$response.body#/id"}),
    Link(("post", "/calendars", "201"), "EditCalendar", ("patch", "/calendars/{id}"),
         {"path.id": "$response.body#/id"}),
    Link(("post", "/teams", "201"), "AddMember", ("post", "/teams/{id}/members"), {"path.id": "$response.body#/id"}),
    Link(("post", "/routing-rules", "201"), "DeleteRule", ("delete", "/routing-rules/{id}"),
         {"path.id": "$response.body#/id"}),
)


def add_links(doc: dict[str, Any]) -> None:
    """Write LINKS into the document's responses (paths relative to the server, as served)."""
    paths = doc["paths"]
    for link in LINKS:
        method, path, status = link.source
        target_method, target_path = link.target
        try:
            response = paths[path][method]["responses"][status]
            operation_id = paths[target_path][target_method]["operationId"]
        except KeyError as exc:
            raise LookupError(f"OpenAPI link {link.name} names an operation or answer not in the document: "
                              f"{link.source} -> {link.target}") from exc
        entry: dict[str, Any] = {"operationId": operation_id, "parameters": dict(link.parameters)}
        if link.body is not None:
            entry["requestBody"] = dict(link.body)
        response.setdefault("links", {})[link.name] = entry
