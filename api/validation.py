"""Input checks shared by the routers, and the 422 handler that keeps error bodies small.

PostgreSQL rejects NUL in text, so every string input is checked for control characters
before it reaches a query, and each one has a maximum length.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, Field

# Longest ``input`` echoed back in a 422 body; longer inputs are cut and marked with "...".
MAX_ECHOED_INPUT = 200
MAX_ID_LENGTH = 200
MAX_PARAMETER_LENGTH = 100
MAX_CURSOR_LENGTH = 1000

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_CHARACTERS_EXCEPT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_character(value: str) -> bool:
    """Return whether a string contains an ASCII control character (NUL, tab, newline and the like)."""
    return _CONTROL_CHARACTERS.search(value) is not None


def reject_control_characters(value: str | None) -> str | None:
    """Raise ValueError for a string with a control character, so the error names its field."""
    if value is not None and has_control_character(value):
        raise ValueError("must not contain control characters such as NUL, tab or newline")
    return value


def reject_control_characters_except_layout(value: str | None) -> str | None:
    """Raise ValueError for a string with a control character other than tab, newline or carriage return."""
    if value is not None and _CONTROL_CHARACTERS_EXCEPT_LAYOUT.search(value) is not None:
        raise ValueError("must not contain control characters such as NUL; tab and newline are allowed")
    return value


NoControl = AfterValidator(reject_control_characters)
NoControlExceptLayout = AfterValidator(reject_control_characters_except_layout)

FarmQuery = Annotated[
    str | None, Query(min_length=1, max_length=MAX_ID_LENGTH, description="Only this farm."), NoControl
]
ControllerQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_ID_LENGTH, description="Only this controller."),
    NoControl,
]
CursorQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page."),
    NoControl,
]
ParameterName = Annotated[
    str, Field(min_length=1, max_length=MAX_PARAMETER_LENGTH), AfterValidator(reject_control_characters)
]
FarmPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH), NoControl]
ControllerPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH), NoControl]


def _shorten(value: Any) -> Any:
    """Return an echoed input as is when short, else its first MAX_ECHOED_INPUT characters."""
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHOED_INPUT else value[:MAX_ECHOED_INPUT] + "..."
    encoded = jsonable_encoder(value)
    if isinstance(encoded, dict | list):
        text = json.dumps(encoded, separators=(",", ":"))
        return encoded if len(text) <= MAX_ECHOED_INPUT else text[:MAX_ECHOED_INPUT] + "..."
    return encoded


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """Return FastAPI's 422 body ``{"detail": [{"loc", "msg", "type", ...}]}`` with each input shortened."""
    assert isinstance(error, RequestValidationError)
    details = []
    for item in error.errors():
        entry = dict(item)
        if "input" in entry:
            entry["input"] = _shorten(entry["input"])
        details.append(entry)
    return JSONResponse({"detail": jsonable_encoder(details)}, status_code=422)
