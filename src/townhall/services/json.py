"""One JSON shape for views, used by HTTP responses and events alike.

API.md wants ids as strings (they exceed JavaScript's safe integers) and RFC 3339 UTC
times, so every id-like field is converted here rather than at each call site.
"""

import dataclasses
from datetime import UTC, datetime
from typing import Any

ID_FIELDS = frozenset({"id", "reply_to"})


def _is_id_field(name: str) -> bool:
    return name in ID_FIELDS or name.endswith("_id") or name.endswith("_ids")


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(value: Any, field_name: str = "") -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and _is_id_field(field_name):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, list | tuple):
        return [to_json(item, field_name) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item, key) for key, item in value.items()}
    return value
