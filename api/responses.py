"""Fast JSON responses for list endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel


def model_response(model: type[BaseModel], content: dict[str, Any]) -> Response:
    """Validate ``content`` as ``model`` and serialize it in one pass each, both in pydantic-core.

    Routes declare the model as ``response_model`` for the OpenAPI document and return this
    response, so FastAPI does not validate and serialize the page a second time.
    """
    return Response(model.model_validate(content).model_dump_json(), media_type="application/json")
