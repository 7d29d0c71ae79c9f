"""Fast JSON responses for list endpoints."""

from __future__ import annotations

from typing import Any

import pydantic_core
from fastapi import Response
from pydantic import BaseModel


def model_response(model: type[BaseModel], content: dict[str, Any]) -> Response:
    """Validate ``content`` as ``model`` and serialize it in one pass each, both in pydantic-core.

    Routes declare the model as ``response_model`` for the OpenAPI document and return this
    response, so FastAPI does not validate and serialize the page a second time.
    """
    return Response(model.model_validate(content).model_dump_json(), media_type="application/json")


def trusted_response(content: dict[str, Any]) -> Response:
    """Serialize ``content`` with pydantic-core without validating it against a model first.

    Only for rows whose columns are exactly the fields of the route's response model, with the
    same types, as the readings queries select them (a test compares columns and fields). It
    writes the same JSON as ``model_response`` and takes about half the time for a page of rows.
    """
    return Response(pydantic_core.to_json(content), media_type="application/json")
