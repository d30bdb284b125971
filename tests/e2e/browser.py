"""Debian's headless chromium driven by Debian's chromedriver through Selenium (`make browser` installs them).

Selenium is given both paths, so Selenium Manager never runs (it would download a driver or a browser);
`SE_OFFLINE` forbids it anyway. Chromium is kept off the network too (no component updates, sync, or
background requests): the pages under test are on loopback and need nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 30.0
_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container has no user namespace for chromium's sandbox
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--mute-audio",  # the element still plays (currentTime advances); nothing reaches a sound card
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,900",
)

T = TypeVar("T")


@contextmanager
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    """A fresh headless chromium (own profile under `tmp_path`), quit afterwards."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        packages = "apt-get install chromium chromium-driver"
        pytest.fail(f"{', '.join(missing)} missing: run `make browser` ({packages})")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, condition: Callable[[Any], T | bool | None], what: str) -> T:
    """Poll `condition(driver)` until it is truthy; fail naming `what` and the page's console log."""
    try:
        # A view re-renders while it loads: an element found a moment ago may be gone; look again.
        waiter = WebDriverWait(
            driver, WAIT_SECONDS, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
        )
        result = waiter.until(condition)
    except Exception as exc:
        console = "\n".join(entry["message"] for entry in _console(driver))
        raise AssertionError(f"timed out waiting for {what}; console:\n{console}") from exc
    return cast(T, result)


def visible(driver: WebDriver, css: str) -> WebElement:
    """The first element matching `css` once it is displayed."""

    def shown(d: Any) -> WebElement | None:
        found = [element for element in d.find_elements(By.CSS_SELECTOR, css) if element.is_displayed()]
        return found[0] if found else None

    return wait_for(driver, shown, f"{css} to be shown")


def console_errors(driver: WebDriver) -> list[str]:
    """Errors the page logged since the last look (reading empties the log): script failures, CSP
    violations, failed loads."""
    return [entry["message"] for entry in _console(driver) if entry["level"] == "SEVERE"]


def _console(driver: WebDriver) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[attr-defined]
    return entries
