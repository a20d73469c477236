"""An OpenAPI 3.1 document generated from the route table (it feeds schemathesis)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from overcast.common.api.routing import Route

REF = "#/components/schemas/{model}"


def openapi_document(title: str, routes: Sequence[Route]) -> dict[str, Any]:
    models = sorted({r.body for r in routes if r.body is not None}, key=lambda m: m.__name__)
    _, schemas = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": f"{route.method.lower()}_{route.handler.__name__}",
            "summary": route.summary,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in route.params
            ],
            "responses": {
                str(route.status): {"description": "Success"},
                "default": {"description": "An error, in the service's OpenStack error format"},
            },
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}
                },
            }
        elif route.documented_body is not None:
            media, body_schema = route.documented_body
            operation["requestBody"] = {
                "required": True,
                "content": {media: {"schema": body_schema}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {})},
    }
