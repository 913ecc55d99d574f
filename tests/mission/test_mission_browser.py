"""The mission page in a real headless Chromium: load, refuse a bad value, run, watch the replay, see figures.

The test starts `swarmops serve` itself on a free port (empty model store: heuristic fallback) and
stops it afterwards; the browser is Debian's /usr/bin/chromium driven by Playwright.
"""
from __future__ import annotations

import os
import re
import shutil
from typing import Iterator

import pytest

from mission.web.browser import CHROMIUM, chromium_page, fill_form, run_and_wait, serving

pytestmark = [pytest.mark.unit,
              pytest.mark.skipif(not os.path.exists(CHROMIUM) or shutil.which("chromium") is None,
                                 reason=f"{CHROMIUM} not installed (scripts/bootstrap.sh installs it)")]
pytest.importorskip("playwright")
SMALL = {"width": "10", "height": "8", "drones": "2", "plants": "6", "obstacles": "0.1", "seed": "4"}


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    runs = tmp_path_factory.mktemp("runs")
    store = {"SWARMOPS_RUNS_DIR": str(runs), "MLFLOW_TRACKING_URI": ""}
    with serving(env=store) as url, chromium_page() as page:
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        yield page, url


def test_bad_value_shows_its_error_and_runs_nothing(page_url: tuple) -> None:
    page, _ = page_url
    fill_form(page, {**SMALL, "drones": "0"})
    page.click("#run-button")
    error = page.locator("#form-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "n_drones=0 is out of range; allowed: 1..256"
    assert page.get_attribute("#drones", "aria-invalid") == "true"
    assert page.get_attribute("#width", "aria-invalid") == "false"
    assert page.locator("#progress-box").is_hidden() and page.locator("#result").is_hidden()
    # Another bad value moves the error to its own field.
    fill_form(page, {"drones": "2", "obstacles": "0.9"})
    page.click("#run-button")
    page.wait_for_function("() => document.getElementById('form-error').textContent.startsWith('obstacle')")
    assert page.get_attribute("#obstacles", "aria-invalid") == "true"
    assert page.get_attribute("#drones", "aria-invalid") == "false"


def test_run_a_mission_and_watch_the_replay(page_url: tuple) -> None:
    page, _ = page_url
    run_and_wait(page, {**SMALL, "mode": "mission", "policy": "heuristic", "watering_policy": "heuristic"})
    assert page.locator("#form-error").is_hidden()
    assert page.locator("#progress").get_attribute("value") == "1"
    tabs = page.locator("#phase-tabs button")
    assert tabs.all_inner_texts() == ["recon", "watering"]
    panels = page.locator(".panel")
    assert panels.count() == 2  # the chosen policy and the heuristic, side by side
    titles = page.locator(".panel h3").all_inner_texts()
    assert titles == ["policy: heuristic (sectors)", "heuristic: heuristic (sectors)"]
    status = page.locator(".panel .status").first
    pattern = r"step (\d+) · coverage [\d.]+% · plants found \d+/6 · watered \d+ · energy \d+ · water \d+"
    first = re.fullmatch(pattern, status.inner_text())
    assert first, status.inner_text()
    # Scrub to the end: the step and the frame change.
    last = page.locator("#step-slider").get_attribute("max")
    src0 = page.locator(".panel img.frame").first.get_attribute("src")
    page.locator("#step-slider").fill(last)
    page.wait_for_function("() => document.querySelector('.panel .status').textContent.startsWith('step') && "
                           "document.querySelector('.panel img.frame').complete")
    end = re.fullmatch(pattern, status.inner_text())
    assert end and int(end.group(1)) > int(first.group(1))
    assert page.locator(".panel img.frame").first.get_attribute("src") != src0
    # Play advances the replay by itself.
    page.locator("#step-slider").fill("0")
    page.click("#play")
    page.wait_for_function("() => Number(document.getElementById('step-slider').value) >= 3")
    page.click("#play")
    # Watering phase: its own tracks.
    tabs.nth(1).click()
    page.wait_for_function("() => document.querySelector('.panel h3').textContent.includes('routes')")
    page.wait_for_function("() => [...document.querySelectorAll('.panel img.frame')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    # Figures and the comparison table.
    page.wait_for_function("() => [...document.querySelectorAll('#figures img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("#figures img").count() >= 1
    table = page.locator("#comparison").inner_text()
    assert "plants missed by recon" in table and "water used" in table
    assert page.locator("#report-md").get_attribute("href").endswith("/report.md")


def test_policy_choices_follow_the_mode(page_url: tuple) -> None:
    page, _ = page_url
    page.select_option("#mode", "mission")
    assert page.locator("#watering_policy").is_visible()
    assert page.locator("#policy option").all_inner_texts()[1] == "heuristic (sectors)"
    assert page.locator("#watering_policy option").all_inner_texts()[2] == "heuristic (routes)"
    page.select_option("#mode", "watering")
    options = page.locator("#policy option").all_inner_texts()
    assert options == ["registry @champion (heuristic if none)", "heuristic (routes)"]
    assert page.locator("#watering_policy").is_hidden()
    legend = page.locator("#legend li").all_inner_texts()
    assert "obstacle" in legend and "plant not found yet" in legend and "drone" in legend
