"""Component schemas of the OpenAPI document: the JSON the service reads and writes."""

from __future__ import annotations

from typing import Any

from runstream.entrypoints.http.errors import DOMAIN_ERRORS, HTTP_ERRORS
from runstream.entrypoints.http.reading import SUMMARY_SCHEMA


def up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (no leading 0)."""
    text = str(limit)
    options = []
    for i, digit in enumerate(text):
        low = "1" if i == 0 else "0"
        if digit > low:
            below = f"[{low}-{int(digit) - 1}]"
            options.append(f"{text[:i]}{below}[0-9]{{{len(text) - i - 1}}}")
    options += [text, f"[1-9][0-9]{{0,{len(text) - 2}}}", "0"]
    return "|".join(options)


# An event id the service can make: both parts at most 2**63 - 1.
_PART = f"(?:{up_to(2**63 - 1)})"
ID_PATTERN = f"{_PART}-{_PART}"
ERROR_CODES = sorted({code for _, code, _ in DOMAIN_ERRORS} | set(HTTP_ERRORS.values()))
_TIME = {"type": "string", "format": "date-time", "nullable": True}
_ID = {"type": "string", "pattern": f"^{ID_PATTERN}$"}
_OBJECT = {"type": "object", "additionalProperties": True}
_ANY: dict[str, Any] = {"nullable": True}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties,
            "additionalProperties": False}  # fmt: skip


_EVENT_IN = _object(
    ["event"],
    event=_object(["category", "action"],
                  category={"type": "string",
                            "enum": ["lifecycle", "llm", "dispatch", "system"]},
                  action={"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}),
    source={"$ref": "#/components/schemas/Source"},
    data=_OBJECT,
)  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "Error": _object(["code", "message"],
                     code={"type": "string", "enum": ERROR_CODES},
                     message={"type": "string"}),
    "RunStatus": {"type": "string",
                  "enum": ["pending", "running", "completed", "failed", "cancelled"]},
    "Run": _object(
        ["id", "hierarchy_id", "task", "status", "result", "error", "statistics",
         "topology_snapshot", "created_at", "started_at", "completed_at"],
        id={"type": "integer"}, hierarchy_id={"type": "integer", "nullable": True},
        task={"type": "string"}, status={"$ref": "#/components/schemas/RunStatus"},
        result=_ANY, error={"type": "string", "nullable": True},
        statistics={**_OBJECT, "nullable": True}, topology_snapshot=_ANY,
        created_at={"type": "string", "format": "date-time"},
        started_at=_TIME, completed_at=_TIME),
    "RunList": _object(["runs", "next_before"],
                       runs={"type": "array",
                             "items": {"$ref": "#/components/schemas/Run"}},
                       next_before={"type": "integer", "nullable": True}),
    "RunRequest": _object(
        ["task"], task={"type": "string", "minLength": 1, "maxLength": 10000},
        hierarchy_id={"type": "integer", "nullable": True, "minimum": 0},
        executor={"type": "string", "enum": ["simulated", "external", None],
                  "nullable": True},
        params={**_OBJECT, "nullable": True}),
    "FinishRequest": _object(
        ["status"], status={"type": "string", "enum": ["completed", "failed"]},
        result=_ANY, statistics={**_OBJECT, "nullable": True},
        error={"type": "string", "nullable": True}),
    "Source": {**_object(["agent_id", "agent_type", "agent_name", "team_name"],
                         agent_id={"type": "string"},
                         agent_type={"type": "string", "enum": [
                             "global_supervisor", "team_supervisor", "worker"]},
                         agent_name={"type": "string"}, team_name={"type": "string"}),
               "nullable": True},
    "NewEvent": _EVENT_IN,
    "AppendRequest": {"oneOf": [
        {"$ref": "#/components/schemas/NewEvent"},
        _object(["events"], events={"type": "array", "minItems": 1, "maxItems": 1000,
                                    "items": _EVENT_IN}),
    ]},
    "Appended": _object(["ids", "sequences"], ids={"type": "array", "items": _ID},
                        sequences={"type": "array", "items": {"type": "integer"}}),
    "Envelope": _object(
        ["id", "run_id", "timestamp", "sequence", "source", "event", "data"],
        id=_ID, run_id={"type": "integer"},
        timestamp={"type": "string", "format": "date-time"},
        sequence={"type": "integer", "minimum": 1},
        source={"$ref": "#/components/schemas/Source"},
        event=_EVENT_IN["properties"]["event"], data=_OBJECT),
    "EventPage": _object(
        ["run_id", "events", "count", "has_more", "next_id"],
        run_id={"type": "integer"}, count={"type": "integer"},
        events={"type": "array", "items": {"$ref": "#/components/schemas/Envelope"}},
        has_more={"type": "boolean"}, next_id={**_ID, "nullable": True}),
    "StreamToken": _object(["token", "expires_at"], token={"type": "string"},
                           expires_at={"type": "string", "format": "date-time"}),
    "RunSummary": SUMMARY_SCHEMA,
    "Health": _object(["status"], status={"type": "string", "enum": ["ok"]}),
    "IngestOffer": _object(["websocket"], websocket={"type": "boolean"}),
    "Readiness": {"type": "object", "required": ["status", "event_log",
                                                 "run_repository"],
                  "properties": {"status": {"type": "string"},
                                 "event_log": _OBJECT, "run_repository": _OBJECT}},
}  # fmt: skip
