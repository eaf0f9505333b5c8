"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driving the console of a real service.

Nothing downloads a browser: Selenium is pointed at /usr/bin/chromium and /usr/bin/chromedriver.
Without them the tests skip, except under CI=true, where they fail (`.ci/run` installs them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.pages import InboxPage, SimulatorPage
from tests.integration.service import PROJECT, RunningService, attendant_token, service_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = PROJECT / "results" / "screenshots"
README_IMAGES = PROJECT / "docs" / "images"
CONSOLE_CHANNEL = "channels.console.ConsoleInput:"


def _require_browser() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    reason = f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI=true, but {reason}")
    pytest.skip(reason)


def _credentials() -> str:
    """The example credentials, with the console channel added while the example lacks it."""
    text = (PROJECT / "credentials.example.yml").read_text()
    return text if CONSOLE_CHANNEL in text else f"{text.rstrip()}\n\n{CONSOLE_CHANNEL}\n"


@pytest.fixture(scope="session")
def console_service(tmp_path_factory) -> Iterator[RunningService]:
    """The real service on SQLite, simulator on, no Graph token: replies are logged for the simulator.

    One for the whole run (starting Rasa is slow): tests keep apart by using customers of their own.
    """
    _require_browser()
    tmp_path = tmp_path_factory.mktemp("console")
    env = service_env(f"sqlite:///{tmp_path / 'console.db'}", "http://127.0.0.1:9/v24.0", SIMULATOR_ENABLED="true")
    service = RunningService(tmp_path / "service", env, credentials=_credentials()).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the run; each test opens the windows it needs (closed after it)."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,860", "--lang=en-US", "--no-first-run", "--disable-extensions",
                     "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                     "--disable-backgrounding-occluded-windows"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER), log_output=str(log)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def simulator(browser, console_service) -> Iterator[SimulatorPage]:
    """The simulator in a window of its own."""
    page = SimulatorPage(browser, 480, 900)
    try:
        yield page.open(console_service.url)
    finally:
        page.close()


@pytest.fixture
def inbox(browser, console_service) -> Iterator[InboxPage]:
    """The inbox in a window of its own, signed in as the attendant `ana`."""
    page = InboxPage(browser, 1280, 900)
    try:
        page.open(console_service.url)
        page.sign_in(attendant_token("ana"))
        yield page
    finally:
        page.close()


def save_screenshot(driver, name: str, readme_name: str = "") -> Path:
    """Save a PNG under results/screenshots/; given `readme_name`, also the README's copy in docs/images/.

    The committed README images are written when missing or when UPDATE_README_IMAGES=1, so an
    ordinary test run leaves the work tree clean.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    readme_copy = README_IMAGES / readme_name if readme_name else None
    if readme_copy and (not readme_copy.exists() or os.environ.get("UPDATE_README_IMAGES") == "1"):
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, readme_copy)
    return path
