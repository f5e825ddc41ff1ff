"""The dashboard tests' headless browser: Debian's chromium and chromedriver, driven by selenium.

The ``browser`` fixture skips, saying why, when selenium, chromium or chromedriver is
missing (``apt-get install chromium chromium-driver``; ``pip install selenium``) or the
browser cannot start. Chromium runs with a fresh profile and its background network
features off, so it never reaches beyond 127.0.0.1.
"""

import os
import shutil

import pytest

#: Where Debian, Ubuntu and others put the browser and its driver ($MLPKIT_TEST_CHROMIUM / _CHROMEDRIVER first).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/lib/chromium-browser/chromedriver")

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1200,900",
)


def _first_found(environment_variable, names):
    for name in (os.environ.get(environment_variable), *names):
        path = name and shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    binary = _first_found("MLPKIT_TEST_CHROMIUM", BROWSERS)
    driver = _first_found("MLPKIT_TEST_CHROMEDRIVER", DRIVERS)
    if binary is None or driver is None:
        missing = " and ".join(name for name, path in (("chromium", binary), ("chromedriver", driver)) if path is None)
        pytest.skip(f"no {missing} found: apt-get install chromium chromium-driver to run the browser test")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        # An explicit driver path: selenium then never tries to download one.
        session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    except WebDriverException as error:
        pytest.skip(f"chromium could not start: {str(error.msg or error).splitlines()[0]}")
    yield session
    session.quit()
