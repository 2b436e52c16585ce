"""X API v2 compatible Spaces lookup, so tools written for X's read API work against Townhall.

Paths, parameters, field names and envelopes follow X's Spaces lookup and search endpoints,
errors included: X clients parse X's error shapes, so these routes check their parameters
themselves and never answer with Townhall's own error envelope.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from townhall.api.auth import Services, optional_principal
from townhall.domain.errors import DomainError
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.services import x_v2
from townhall.services.context import ServiceContext
from townhall.services.json import format_time, to_json
from townhall.services.space_views import SpaceView
from townhall.services.views import UserView
from townhall.types import UserId

router = APIRouter(prefix="/2/spaces", tags=["x-api-v2"])

SPACE_FIELDS = (
    "created_at",
    "creator_id",
    "ended_at",
    "host_ids",
    "id",
    "invited_user_ids",
    "is_ticketed",
    "lang",
    "participant_count",
    "scheduled_start",
    "speaker_ids",
    "started_at",
    "state",
    "subscriber_count",
    "title",
    "topic_ids",
    "updated_at",
)
# Expansions naming users, and the one naming topics.
USER_EXPANSIONS = ("creator_id", "host_ids", "invited_user_ids", "speaker_ids")
EXPANSIONS = (*USER_EXPANSIONS, "topic_ids")
# Every user field X knows, so requests written for X are accepted; we fill the ones we have.
USER_FIELDS = (
    "created_at",
    "description",
    "entities",
    "id",
    "location",
    "most_recent_tweet_id",
    "name",
    "pinned_tweet_id",
    "profile_image_url",
    "protected",
    "public_metrics",
    "url",
    "username",
    "verified",
    "verified_type",
    "withheld",
)
TOPIC_FIELDS = ("description", "id", "name")
FIELD_PARAMETERS = ("expansions", "space.fields", "topic.fields", "user.fields")

MAX_IDS = 100  # X's limit for ids and user_ids lists
MAX_RESULTS = 100  # X's limit (and default) for search's max_results
MAX_QUERY_CHARS = 512
ID_PATTERN = "^[0-9]{1,19}$"
MAX_ID = 2**63 - 1  # ids are signed 64-bit; larger well-formed ids simply match nothing
SEARCH_STATES = {
    "all": (SpaceState.LIVE, SpaceState.SCHEDULED),
    "live": (SpaceState.LIVE,),
    "scheduled": (SpaceState.SCHEDULED,),
}

INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


@dataclass
class Parameters:
    """A request's query parameters, checked the way X checks them, problems collected."""

    request: Request
    allowed: Sequence[str]
    problems: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        counts: dict[str, int] = {}
        for name, value in self.request.query_params.multi_items():
            counts[name] = counts.get(name, 0) + 1
            if name not in self.allowed:
                self.problem(
                    name,
                    [value],
                    f"The query parameter [{name}] is not one of [{_joined(self.allowed)}]",
                )
        for name, count in counts.items():
            if count > 1 and name in self.allowed:
                self.problem(
                    name,
                    self.request.query_params.getlist(name),
                    f"Duplicate parameters are not allowed for the `{name}` query parameter",
                )

    def problem(self, name: str, values: list[str], message: str) -> None:
        self.problems.append({"parameters": {name: values}, "message": message})

    def choices(self, name: str, raw: str | None, allowed: Sequence[str]) -> frozenset[str]:
        """A comma-separated list whose every value must be one of `allowed`."""
        values = _split(raw)
        for value in values:
            if value not in allowed:
                self.problem(
                    name,
                    [value],
                    f"The `{name}` query parameter value [{value}] is not one of "
                    f"[{_joined(allowed)}]",
                )
        return frozenset(values)

    def ids(self, name: str, raw: str | None) -> list[int]:
        """A required comma-separated list of 1 to 100 numeric ids, in order, without repeats."""
        values = _split(raw)
        if not values:
            self.problem(name, [], f"The `{name}` query parameter can not be empty")
            return []
        if len(values) > MAX_IDS:
            self.problem(
                name,
                [raw or ""],
                f"The number of values in the `{name}` query parameter list [{len(values)}] "
                f"is not between 1 and {MAX_IDS}",
            )
            return []
        parsed: list[int] = []
        for value in values:
            number = self.id(name, value)
            if number is not None and number not in parsed:
                parsed.append(number)
        return parsed

    def id(self, name: str, value: str) -> int | None:
        if not (value.isascii() and value.isdigit() and len(value) <= 19):
            self.problem(
                name,
                [value],
                f"The `{name}` query parameter value [{value}] does not match {ID_PATTERN}",
            )
            return None
        return int(value)

    def text(self, name: str, raw: str | None) -> str:
        value = (raw or "").strip()
        if not value:
            self.problem(name, [], f"The `{name}` query parameter can not be empty")
        elif len(value) > MAX_QUERY_CHARS:
            self.problem(
                name,
                [value],
                f"The `{name}` query parameter value is longer than {MAX_QUERY_CHARS} characters",
            )
        return value

    def one_of(self, name: str, raw: str | None, allowed: Sequence[str], default: str) -> str:
        if raw is None:
            return default
        if raw not in allowed:
            self.problem(
                name,
                [raw],
                f"The `{name}` query parameter value [{raw}] is not one of [{_joined(allowed)}]",
            )
            return default
        return raw

    def count(self, name: str, raw: str | None, maximum: int) -> int:
        if raw is None:
            return maximum
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum):
            self.problem(
                name,
                [raw],
                f"The `{name}` query parameter value [{raw}] is not between 1 and {maximum}",
            )
            return maximum
        return int(raw)


@dataclass(frozen=True)
class Shape:
    """What the caller asked to see: the fields and expansions parameters."""

    space_fields: frozenset[str]
    expansions: frozenset[str]
    user_fields: frozenset[str]
    topic_fields: frozenset[str]

    @classmethod
    def parse(
        cls,
        params: Parameters,
        space_fields: str | None,
        expansions: str | None,
        user_fields: str | None,
        topic_fields: str | None,
    ) -> "Shape":
        return cls(
            space_fields=params.choices("space.fields", space_fields, SPACE_FIELDS),
            expansions=params.choices("expansions", expansions, EXPANSIONS),
            user_fields=params.choices("user.fields", user_fields, USER_FIELDS),
            topic_fields=params.choices("topic.fields", topic_fields, TOPIC_FIELDS),
        )


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _joined(values: Iterable[str]) -> str:
    return ",".join(values)


def invalid_request(problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(
        {
            "errors": problems,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_REQUEST,
        },
        status_code=400,
    )


def unauthorized() -> JSONResponse:
    return JSONResponse(
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        status_code=401,
    )


def not_found(parameter: str, value: str) -> dict[str, Any]:
    return {
        "value": value,
        "detail": f"Could not find space with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": "space",
        "parameter": parameter,
        "resource_id": value,
        "type": NOT_FOUND,
    }


def space_object(view: SpaceView, fields: frozenset[str]) -> dict[str, Any]:
    """X's Space object: id and state always, asked-for fields only when the Space has them."""
    full: dict[str, Any] = to_json(view)
    moments = [m for m in (view.started_at, view.ended_at, view.created_at) if m is not None]
    full["updated_at"] = format_time(max(moments))
    result: dict[str, Any] = {"id": full["id"], "state": full["state"]}
    for name in SPACE_FIELDS:
        if name in fields and name not in result:
            value = full.get(name)
            if value is not None and value != []:
                result[name] = value
    return result


def user_object(view: UserView, fields: frozenset[str], base_url: str) -> dict[str, Any]:
    """X's user object: id, name and username always, the rest when asked for and known."""
    result: dict[str, Any] = {
        "id": str(view.id),
        "name": view.display_name or view.username,
        "username": view.username,
    }
    if "created_at" in fields:
        result["created_at"] = format_time(view.created_at)
    if "description" in fields:
        result["description"] = view.bio
    if "profile_image_url" in fields and view.avatar_url:
        result["profile_image_url"] = urljoin(base_url, view.avatar_url)
    if "protected" in fields:
        result["protected"] = False  # every Townhall profile is public
    if "verified" in fields:
        result["verified"] = False
    if "public_metrics" in fields:
        result["public_metrics"] = {
            "followers_count": view.followers_count,
            "following_count": view.following_count,
        }
    return result


def expanded_user_ids(views: Iterable[SpaceView], expansions: frozenset[str]) -> list[int]:
    """The users to expand, in order of first mention, each once."""
    seen: dict[int, None] = {}
    for view in views:
        mentioned: dict[str, list[int]] = {
            "creator_id": [view.creator_id],
            "host_ids": list(view.host_ids),
            "invited_user_ids": view.invited_user_ids,
            "speaker_ids": list(view.speaker_ids),
        }
        for name in USER_EXPANSIONS:
            if name in expansions:
                seen.update(dict.fromkeys(mentioned[name]))
    return list(seen)


def includes_for(
    ctx: ServiceContext, views: list[SpaceView], shape: Shape, base_url: str
) -> dict[str, Any]:
    includes: dict[str, Any] = {}
    user_ids = expanded_user_ids(views, shape.expansions)
    if user_ids:
        users = x_v2.get_users_by_ids(ctx, user_ids)
        objects = [
            user_object(users[user_id], shape.user_fields, base_url)
            for user_id in user_ids
            if user_id in users
        ]
        if objects:
            includes["users"] = objects
    if "topic_ids" in shape.expansions:
        # Townhall topics are free-form labels: the label is both the id and the name.
        topics = dict.fromkeys(topic for view in views for topic in view.topic_ids)
        if topics:
            includes["topics"] = [{"id": topic, "name": topic} for topic in topics]
    return includes


def respond(
    ctx: ServiceContext,
    request: Request,
    shape: Shape,
    views: list[SpaceView],
    single: bool = False,
    errors: list[dict[str, Any]] | None = None,
    meta: bool = False,
) -> JSONResponse:
    """One envelope for every endpoint: data, includes, errors and meta as X lays them out."""
    body: dict[str, Any] = {}
    if views:
        objects = [space_object(view, shape.space_fields) for view in views]
        body["data"] = objects[0] if single else objects
        includes = includes_for(ctx, views, shape, str(request.base_url))
        if includes:
            body["includes"] = includes
    if errors:
        body["errors"] = errors
    if meta:
        body["meta"] = {"result_count": len(views)}
    return JSONResponse(body)


def viewer_of(request: Request) -> tuple[UserId | None, bool]:
    """Who is asking (the API is public, a token is optional) and whether their token was good."""
    try:
        principal = optional_principal(request)
    except DomainError:
        return None, False
    return (principal.user_id if principal else None), True


SpaceFieldsParam = Query(default=None, alias="space.fields")
ExpansionsParam = Query(default=None, alias="expansions")
UserFieldsParam = Query(default=None, alias="user.fields")
TopicFieldsParam = Query(default=None, alias="topic.fields")


@router.get("/search")
def search_spaces(
    request: Request,
    ctx: Services,
    query: str | None = Query(default=None),
    state: str | None = Query(default=None),
    max_results: str | None = Query(default=None),
    space_fields: str | None = SpaceFieldsParam,
    expansions: str | None = ExpansionsParam,
    user_fields: str | None = UserFieldsParam,
    topic_fields: str | None = TopicFieldsParam,
) -> JSONResponse:
    viewer_id, authorized = viewer_of(request)
    if not authorized:
        return unauthorized()
    params = Parameters(request, ("query", "state", "max_results", *FIELD_PARAMETERS))
    text = params.text("query", query)
    wanted_state = params.one_of("state", state, tuple(SEARCH_STATES), "all")
    limit = params.count("max_results", max_results, MAX_RESULTS)
    shape = Shape.parse(params, space_fields, expansions, user_fields, topic_fields)
    if params.problems:
        return invalid_request(params.problems)
    views = x_v2.search_spaces(ctx, text, SEARCH_STATES[wanted_state], viewer_id, limit)
    return respond(ctx, request, shape, views, meta=True)


@router.get("/by/creator_ids")
def spaces_by_creator_ids(
    request: Request,
    ctx: Services,
    user_ids: str | None = Query(default=None),
    space_fields: str | None = SpaceFieldsParam,
    expansions: str | None = ExpansionsParam,
    user_fields: str | None = UserFieldsParam,
    topic_fields: str | None = TopicFieldsParam,
) -> JSONResponse:
    viewer_id, authorized = viewer_of(request)
    if not authorized:
        return unauthorized()
    params = Parameters(request, ("user_ids", *FIELD_PARAMETERS))
    creators = params.ids("user_ids", user_ids)
    shape = Shape.parse(params, space_fields, expansions, user_fields, topic_fields)
    if params.problems:
        return invalid_request(params.problems)
    views = x_v2.get_spaces_by_creators(ctx, [c for c in creators if c <= MAX_ID], viewer_id)
    return respond(ctx, request, shape, views, meta=True)


@router.get("")
def spaces_by_ids(
    request: Request,
    ctx: Services,
    ids: str | None = Query(default=None),
    space_fields: str | None = SpaceFieldsParam,
    expansions: str | None = ExpansionsParam,
    user_fields: str | None = UserFieldsParam,
    topic_fields: str | None = TopicFieldsParam,
) -> JSONResponse:
    viewer_id, authorized = viewer_of(request)
    if not authorized:
        return unauthorized()
    params = Parameters(request, ("ids", *FIELD_PARAMETERS))
    wanted = params.ids("ids", ids)
    shape = Shape.parse(params, space_fields, expansions, user_fields, topic_fields)
    if params.problems:
        return invalid_request(params.problems)
    found = x_v2.get_spaces_by_ids(ctx, [i for i in wanted if i <= MAX_ID], viewer_id)
    views = [found[i] for i in wanted if i in found]
    missing = [not_found("ids", str(i)) for i in wanted if i not in found]
    return respond(ctx, request, shape, views, errors=missing)


@router.get("/{space_id}")
def space_by_id(
    space_id: str,
    request: Request,
    ctx: Services,
    space_fields: str | None = SpaceFieldsParam,
    expansions: str | None = ExpansionsParam,
    user_fields: str | None = UserFieldsParam,
    topic_fields: str | None = TopicFieldsParam,
) -> JSONResponse:
    viewer_id, authorized = viewer_of(request)
    if not authorized:
        return unauthorized()
    params = Parameters(request, FIELD_PARAMETERS)
    wanted = params.id("id", space_id)
    shape = Shape.parse(params, space_fields, expansions, user_fields, topic_fields)
    if params.problems or wanted is None:
        return invalid_request(params.problems)
    found = x_v2.get_spaces_by_ids(ctx, [wanted] if wanted <= MAX_ID else [], viewer_id)
    if wanted not in found:
        return respond(ctx, request, shape, [], errors=[not_found("id", space_id)])
    return respond(ctx, request, shape, [found[wanted]], single=True)
