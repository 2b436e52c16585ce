"""Set-up through the public API: accounts, a live Space, a speaker on its stage."""

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from townhall.loadtest.http import Client, HttpError, Response
from townhall.loadtest.plan import Account

SIGNUP_ATTEMPTS = 3


class SetupError(Exception):
    """The deployment refused a set-up step; the message says which and why."""


def expect(response: Response, status: int, what: str) -> Any:
    if response.status != status:
        raise SetupError(f"{what}: HTTP {response.status} {response.text[:200]}")
    return response.json() if response.body else None


async def signup(http: Client, username: str, password: str) -> Account:
    body = {"username": username, "password": password}
    for attempt in range(SIGNUP_ATTEMPTS):
        try:
            response = await http.request("POST", "/api/v1/auth/signup", json_body=body)
        except (HttpError, TimeoutError) as exc:
            if attempt == SIGNUP_ATTEMPTS - 1:
                raise SetupError(f"sign-up {username}: {exc}") from exc
            continue
        if response.status == 429:
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            continue
        data = expect(response, 201, f"sign-up {username}")
        return Account(data["user"]["id"], data["token"])
    raise SetupError(f"sign-up {username}: still rate limited after {SIGNUP_ATTEMPTS} tries")


async def signup_many(
    http: Client,
    count: int,
    password: str,
    concurrency: int,
    progress: Callable[[int], None],
) -> list[Account]:
    """count new accounts named lt<run><index>, at most `concurrency` sign-ups in flight."""
    run = secrets.token_hex(3)
    accounts: list[Account | None] = [None] * count
    next_index = 0
    done = 0

    async def worker() -> None:
        nonlocal next_index, done
        while next_index < count:
            i = next_index
            next_index += 1
            accounts[i] = await signup(http, f"lt{run}{i:05d}", password)
            done += 1
            progress(done)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return [account for account in accounts if account is not None]


async def open_space(http: Client, host: Account, title: str) -> str:
    space = expect(
        await http.request("POST", "/api/v1/spaces", json_body={"title": title}, token=host.token),
        201,
        "create the Space",
    )
    return str(space["id"])


async def bring_on_stage(http: Client, host: Account, speaker: Account, space_id: str) -> None:
    """The speaker joins, raises a hand, the host approves, the speaker unmutes."""
    base = f"/api/v1/spaces/{space_id}"
    expect(await http.request("POST", f"{base}/join", token=speaker.token), 200, "speaker join")
    raised = await http.request("POST", f"{base}/speak-requests", token=speaker.token)
    expect(raised, 201, "speaker raises a hand")
    approve = f"{base}/speak-requests/{speaker.user_id}/approve"
    expect(await http.request("POST", approve, token=host.token), 200, "host approves")
    unmute = f"{base}/participants/me/unmute"
    expect(await http.request("POST", unmute, token=speaker.token), 200, "speaker unmutes")


async def end_space(http: Client, host: Account, space_id: str) -> None:
    await http.request("POST", f"/api/v1/spaces/{space_id}/end", token=host.token)


async def check_live(http: Client, space_id: str, token: str) -> None:
    space = expect(
        await http.request("GET", f"/api/v1/spaces/{space_id}", token=token), 200, "the Space"
    )
    if space.get("state") != "live":
        raise SetupError(f"Space {space_id} is {space.get('state')}, not live")


def load_accounts(path: str) -> list[Account]:
    """Accounts saved by earlier runs (`--accounts-file`), one JSON object a line."""
    accounts = []
    with contextlib.suppress(FileNotFoundError), open(path) as saved:
        for line in saved:
            if line.strip():
                data = json.loads(line)
                accounts.append(Account(data["user_id"], data["token"]))
    return accounts


def save_accounts(path: str, accounts: list[Account]) -> None:
    with open(path, "a") as saved:
        for account in accounts:
            saved.write(json.dumps({"user_id": account.user_id, "token": account.token}) + "\n")


async def reusable_accounts(http: Client, path: str, out: Callable[[str], None]) -> list[Account]:
    """The saved accounts, if their tokens still work on this deployment (else none)."""
    accounts = load_accounts(path)
    if not accounts:
        return []
    response = await http.request("GET", "/api/v1/me", token=accounts[0].token)
    if response.status != 200:
        out(f"set-up: the accounts in {path} do not work here (HTTP {response.status}); new ones")
        return []
    return accounts
