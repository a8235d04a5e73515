"""The report in a real browser: headless Chromium renders the grid and every case, logs no error.

Locally this skips when Chromium or Selenium is missing; in CI (CI=true) it must run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from rows import sample_rows

from harness.report import write as report

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: apt-get install chromium chromium-driver")
        pytest.skip("Chromium is not installed (Debian packages chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    rows = sample_rows()
    report.write_reports(rows, tmp_path, {"python": "3.11"})
    driver = _browser()
    try:
        driver.get((tmp_path / "report.html").as_uri())
        assert "2 failing" in driver.find_element(By.CSS_SELECTOR, "p.headline").text
        entries = driver.find_elements(By.CSS_SELECTOR, "details.case")
        assert [e.get_attribute("id") for e in entries] == ["case-sample-same", "case-sample-circular"]
        assert not entries[0].get_attribute("open")  # collapsed until asked
        driver.find_element(By.CSS_SELECTOR, 'table.failing a[href="#case-sample-same"]').click()
        opened = driver.find_element(By.ID, "case-sample-same")
        assert opened.get_attribute("open")
        pictures = opened.find_elements(By.CSS_SELECTOR, ".pictures svg")
        assert [p.get_attribute("aria-label") for p in pictures] == [
            "pads of reference", "pads of torch", "pads of keras", "pads of jax"]
        assert opened.find_elements(By.CSS_SELECTOR, ".heat svg")  # jax's value mismatch
        Select(driver.find_element(By.ID, "f-status")).select_by_value("unsupported")
        shown = [e.get_attribute("id") for e in entries if e.is_displayed()]
        assert shown == ["case-sample-circular"]
        assert driver.find_element(By.ID, "f-count").text == "1 of 2 cases"
        driver.save_screenshot(str(tmp_path / "report.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        driver.quit()
    assert (tmp_path / "report.png").stat().st_size > 10_000
