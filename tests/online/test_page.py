"""The web page in headless Chromium: pick a user, click follow, see the list refresh."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.online.conftest import (
    serving_rig,
)
from tests.online.server import start_api

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _browser() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.add_argument("--window-size=1280,900")
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def test_pick_user_follow_and_the_list_refreshes(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    rig, env, _ = serving_rig(
        make_topic, tmp_path, kafka_bootstrap, sample_users="u1,u-page"
    )
    rig.start()
    api, base = start_api(env, tmp_path / "api.log")
    browser = _browser()
    try:
        browser.get(base + "/")
        wait = WebDriverWait(browser, 30)
        # the first sample user is picked and shown: history on the left, list on the right
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#recs li")) == 10)
        assert browser.find_element(By.ID, "user").get_attribute("value") == "u1"
        recent = browser.find_elements(By.CSS_SELECTOR, "#recent-audiobooks li")
        assert any("a000003" in li.text for li in recent)
        before = browser.find_element(By.ID, "recs").get_attribute("data-as-of")
        titles = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recs li")]
        first = browser.find_element(By.CSS_SELECTOR, "#recs li")
        followed = first.get_attribute("data-item-id")
        first.find_element(By.CSS_SELECTOR, "button[data-action=follow]").click()
        # the page posts the event, polls until the features change, then re-renders
        # the page re-renders once the recent-items view holds the event (<= 60 s)
        WebDriverWait(browser, 90).until(
            lambda b: (
                b.find_element(By.ID, "recs").get_attribute("data-as-of")
                not in ("", before)
            )
        )
        status = browser.find_element(By.ID, "status").text
        assert "had not changed" not in status, status
        recent = browser.find_elements(By.CSS_SELECTOR, "#recent-audiobooks li")
        assert followed and any(followed in li.text for li in recent)
        after = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recs li")]
        assert after != titles
        shot = tmp_path / "page.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
    except Exception:
        print(api.tail(30))
        raise
    finally:
        browser.quit()
        api.stop()
        rig.stop_all()
