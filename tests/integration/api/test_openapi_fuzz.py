"""Schemathesis against /openapi.json on a live server (issue #8): for every operation,
generated requests (valid and invalid) never get a 5xx, and answers match the schema.

Requests carry the bearer token of a user who hosts a live Space, so they get past the
401 of most routes; ids in paths are generated, so most Space routes answer 404, which
is what a stranger probing ids sees. Logging out is run with a throwaway token.
"""

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.harness import TEST_PASSWORD, LiveServer, make_settings, serve_in_thread

EXAMPLES_PER_OPERATION = int(os.environ.get("TOWNHALL_SCHEMATHESIS_EXAMPLES", "50"))
"""About a minute for the whole API on a 2-core machine; raise it for a longer hunt."""
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

# WHIP and WHEP take an SDP offer as the body: send generated text as it is.
schemathesis.serializer.alias("application/sdp", "text/plain")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings_ = make_settings(tmp_path_factory.mktemp("schemathesis")).with_overrides(
        captions_model=None, login_failures_per_minute=100_000
    )
    yield from serve_in_thread(settings_)


def _token(server: LiveServer) -> str:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.post(
            "/api/v1/auth/signup",
            json={"username": f"s{uuid.uuid4().hex[:12]}", "password": TEST_PASSWORD},
        )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def _known_ids(server: LiveServer, token: str) -> dict[str, str]:
    """A live Space hosted by the token's user, with a shared post and an open poll."""
    with httpx.Client(
        base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        me = client.get("/api/v1/me").json()
        space_id = client.post("/api/v1/spaces", json={"title": "Fuzzed"}).json()["id"]
        post = client.post("/api/v1/posts", json={"text": "hi", "space_id": space_id}).json()
        poll = client.post(
            f"/api/v1/spaces/{space_id}/polls",
            json={"question": "Yes?", "options": ["yes", "no"], "duration_s": 3600},
        ).json()
    return {
        "space_id": space_id,
        "username": me["username"],
        "user_id": me["id"],
        "post_id": post["id"],
        "poll_id": poll["id"],
    }


def test_no_operation_answers_5xx_or_off_schema(api_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{api_server.url}/openapi.json")
    token = _token(api_server)
    known = _known_ids(api_server, token)
    failures: dict[str, str] = {}
    calls = 0
    statuses: dict[int, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures[f"schema error {operations}"] = str(result.err())
            continue
        operation = result.ok()
        operations += 1

        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases, existing=st.booleans())
        def run(case: Any, existing: bool) -> None:
            nonlocal calls
            real = {name: value for name, value in known.items() if f"{{{name}}}" in case.path}
            if existing and real and case.path_parameters:
                # Half the time, ids of things that exist, so routes get past their 404.
                case.path_parameters = {**case.path_parameters, **real}
            bearer = _token(api_server) if case.path.endswith("/auth/logout") else token
            response = case.call(
                base_url=api_server.url, headers={"Authorization": f"Bearer {bearer}"}
            )
            calls += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as failure:  # collect them all, then report
            failures[operation.label] = str(failure)[:2000]
    print(f"schemathesis: {operations} operations, {calls} requests")
    print(f"schemathesis: statuses {sorted(statuses.items())}")
    assert operations > 60
    assert failures == {}, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
