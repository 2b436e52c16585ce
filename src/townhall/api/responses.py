"""JSON responses for bodies that are already in their API shape."""

import json
from typing import Any

from fastapi import Response


def json_response(content: Any, status_code: int = 200) -> Response:
    """A body shaped by `to_json`, sent as is.

    FastAPI would otherwise validate the returned value against the route's response model
    and encode it again; on a timeline page that was a sizeable share of the request for
    a shape `to_json` already guarantees. The route keeps its `response_model` for the docs.
    """
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status_code, media_type="application/json")
