"""Drive the mission page in a real headless Chromium: shared by the browser test and the README screenshot.

``python -m mission.web.browser --screenshot docs/img/mission-page.png`` starts `swarmops serve` on a
free port, runs a small mission through the form and saves what the browser shows.
Uses Debian's /usr/bin/chromium through Playwright (never `playwright install`).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Mapping

CHROMIUM = os.environ.get("SWARMOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(env: Mapping[str, str] | None = None, timeout_s: float = 60.0) -> Iterator[str]:
    """Run `swarmops serve` in a subprocess on a free port; yields its base URL; always stops it."""
    port = free_port()
    cmd = [sys.executable, "-m", "swarmops", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                tail = proc.stdout.read()[-2000:] if proc.stdout else ""
                raise RuntimeError(f"swarmops serve exited with {proc.returncode}: {tail}")
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"swarmops serve did not answer on {url} within {timeout_s}s")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: only what this function started
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def fill_form(page: Any, values: Mapping[str, Any]) -> None:
    """Type values into the form (selects by value)."""
    for name, value in values.items():
        locator = page.locator(f"#{name}")
        if locator.evaluate("el => el.tagName") == "SELECT":
            locator.select_option(str(value))
        else:
            locator.fill(str(value))


def run_and_wait(page: Any, values: Mapping[str, Any], timeout_s: float = 120.0) -> None:
    """Fill the form, press Run, wait until the replay and its frames are shown."""
    fill_form(page, values)
    page.click("#run-button")
    page.wait_for_selector("#result:not([hidden])", timeout=timeout_s * 1000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.panel img.frame')].length >= 2 && "
        "[...document.querySelectorAll('.panel img.frame')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=30_000)


def main(argv: list[str] | None = None) -> int:
    """Screenshot of the page after a small mission (for the README)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, required=True)
    parser.add_argument("--width", default="16")
    parser.add_argument("--height", default="12")
    parser.add_argument("--drones", default="3")
    parser.add_argument("--plants", default="14")
    parser.add_argument("--obstacles", default="0.1")
    parser.add_argument("--seed", default="3")
    parser.add_argument("--frame", type=int, default=-1, help="replay frame to show (-1: the middle)")
    args = parser.parse_args(argv)
    values = {k: getattr(args, k) for k in ("width", "height", "drones", "plants", "obstacles", "seed")}
    with serving() as url, chromium_page() as page:
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        run_and_wait(page, values)
        last = int(page.locator("#step-slider").get_attribute("max"))
        frame = last // 2 if args.frame < 0 else min(args.frame, last)
        page.locator("#step-slider").fill(str(frame))
        page.wait_for_timeout(500)
        args.screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.screenshot), full_page=True)
    print(f"screenshot: {args.screenshot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
