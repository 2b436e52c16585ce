"""One module of routes per area of API.md."""

from typing import Any

from townhall.api.schemas import ErrorEnvelope

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in (
        (400, "Malformed request"),
        (401, "Not logged in"),
        (403, "Not allowed"),
        (404, "Unknown or not visible"),
        (409, "Conflicts with the current state"),
        (413, "Body too large"),
        (422, "Invalid input"),
        (429, "Rate limited"),
    )
}
