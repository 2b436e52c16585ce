"""Headless Chromium for the browser tests: Debian's chromium driven by Playwright, no downloads.

Two browsers: `browser` for most tests, and `mic_browser`, whose fake microphone speaks a
speech file made with espeak-ng and sox (for the live audio tests)."""

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
FAKE_MIC_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
SPEECH = (
    "Welcome to the town hall. Tonight we talk about the new park by the river, "
    "the bike lanes on Main Street, and longer opening hours at the library. "
    "Everyone is welcome to speak."
)
# Generous for a loaded 2-core CI machine; a passing step takes milliseconds.
TIMEOUT_MS = 15_000

OpenPage = Callable[[], Page]


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """One Playwright for the session (its sync API allows one per thread)."""
    if not CHROMIUM_PATH.exists():
        pytest.fail(f"{CHROMIUM_PATH} is missing: run scripts/install-system-deps")
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        yield playwright
    finally:
        playwright.stop()


def _launch(playwright: Playwright, args: list[str]) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), args=args, headless=True)


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One Chromium for the session; each test isolates people in their own contexts."""
    browser = _launch(playwright_driver, CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 9 s of espeak-ng speech as 48 kHz mono 16-bit WAV (Chromium loops it)."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/install-system-deps")
    folder = tmp_path_factory.mktemp("speech")
    raw, wav = folder / "raw.wav", folder / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "165", "-w", str(raw), SPEECH], check=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(wav)], check=True)
    return wav


@pytest.fixture(scope="session")
def mic_browser(playwright_driver: Playwright, speech_wav: Path) -> Iterator[Browser]:
    """A Chromium whose microphone (granted without asking) speaks speech_wav."""
    args = [*CHROMIUM_ARGS, *FAKE_MIC_ARGS, f"--use-file-for-fake-audio-capture={speech_wav}"]
    browser = _launch(playwright_driver, args)
    try:
        yield browser
    finally:
        browser.close()


def _open_pages(browser: Browser) -> Iterator[OpenPage]:
    """Opens pages in fresh contexts (their own cookies: one person each) and fails on
    script errors."""
    contexts: list[BrowserContext] = []
    errors: list[Error] = []

    def open_one() -> Page:
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        return page

    try:
        yield open_one
    finally:
        for context in contexts:
            context.close()
    assert not errors, f"uncaught errors in the web client: {errors}"


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    yield from _open_pages(browser)


@pytest.fixture
def open_mic_page(mic_browser: Browser) -> Iterator[OpenPage]:
    """The same, in the browser with the speaking microphone."""
    yield from _open_pages(mic_browser)
