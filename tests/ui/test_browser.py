"""End to end in a real browser: ``python -m wommsim.ui`` driven by headless Chromium.

Playwright's Python package drives Debian's Chromium (``/usr/bin/chromium``; no browser
download). The server runs as a user runs it, on a free port of 127.0.0.1, with Solara's
CDN fallback pointed at a closed local port, so the page must load from the local assets:
any request that fails, or leaves this machine, fails the test. Screenshots go to
``$WOMMSIM_UI_SCREENSHOTS`` (default ``build/ui-screenshots/``).
"""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.helpers.ui import free_port, offline_env, ui_server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("WOMMSIM_UI_SCREENSHOTS", ROOT / "build" / "ui-screenshots"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WAIT_MS = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's Chromium at /usr/bin/chromium "
                                       "(apt-get install chromium; .ci/run installs it)")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    SHOTS.mkdir(parents=True, exist_ok=True)

    def ready() -> bool:
        with urllib.request.urlopen(url + "/", timeout=5) as response:
            return response.status == 200

    with open(SHOTS / "server.log", "w") as log, \
            ui_server(port, ["consumers=500"], offline_env(), ready, log,
                      lambda: ": " + (SHOTS / "server.log").read_text()[-3000:]):
        yield url


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS,
                                     headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Watch:
    """Everything that went wrong on a page: failed requests, errors, foreign hosts."""

    def __init__(self, page, base: str) -> None:
        self.problems: list[str] = []
        host = urlparse(base).netloc
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} "
                                                                f"{r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", lambda r: urlparse(r.url).scheme in ("http", "https")
                and urlparse(r.url).netloc != host
                and self.problems.append(f"left the machine: {r.url}"))


def wait_time(page, step: int) -> None:
    page.get_by_text(f"Time: {step}.0", exact=True).wait_for(timeout=WAIT_MS)


def shoot(page, name: str, **kwargs) -> None:
    page.wait_for_timeout(300)  # let the page settle (fades, scrolling) for the picture
    page.screenshot(path=SHOTS / name, **kwargs)


def test_the_model_page_and_the_comparison_page_in_a_browser(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1050})
    page = context.new_page()
    watch = Watch(page, server)
    page.set_default_timeout(WAIT_MS)

    # the model page loads, draws the network and the five plots
    page.goto(server + "/")
    wait_time(page, 0)
    page.locator("img.wommsim-network").wait_for()
    page.wait_for_function("document.querySelectorAll('img.wommsim-plot').length >= 5")
    page.wait_for_function(
        "[...document.querySelectorAll('img.wommsim-network, img.wommsim-plot')]"
        ".filter(e => e.complete && e.naturalWidth > 50).length >= 6")
    assert page.get_by_text("Week 0", exact=True).is_visible()
    # every slider shows its value and unit, none having focus
    assert "96%" in page.locator(".wommsim-label-consumer__ad_blind_fraction").inner_text()
    assert "500 consumers" in page.locator(".wommsim-label-consumers").inner_text()
    assert page.get_by_text("runs on Solara").count() == 0  # Solara's badge is hidden
    shoot(page, "1-model-loaded.png")
    assert_nothing_covers(page, "img.wommsim-plot-cost")

    # three Steps show step 3
    for step in (1, 2, 3):
        page.get_by_role("button", name="Step").click()
        wait_time(page, step)
    page.get_by_text("Week 3", exact=True).wait_for()
    shoot(page, "2-model-step-3.png")

    # Play runs on, pause stops it
    page.get_by_role("button", name="▶").click()
    page.get_by_text(re.compile(r"^Time: ([5-9]|\d\d+)\.0$")).wait_for()
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="▶").wait_for()

    # a changed strategy and ad-blind share apply on Reset
    page.locator(".v-select").filter(has_text="Strategy").first.click()
    page.get_by_role("option", name="ad_heavy").click()
    page.locator(".wommsim-slider-consumer__ad_blind_fraction [role=slider]").focus()
    page.keyboard.press("Home")  # the slider's minimum
    page.locator(".wommsim-label-consumer__ad_blind_fraction", has_text="0%").wait_for()
    page.get_by_role("button", name="Reset").click()
    wait_time(page, 0)
    page.locator(".wommsim-running", has_text="ad_heavy").wait_for()
    assert "never click 0%" in page.locator(".wommsim-running").inner_text()
    page.get_by_role("button", name="Step").click()
    wait_time(page, 1)
    shoot(page, "3-model-reset-ad-heavy.png")

    # the comparison page steps both models
    page.get_by_role("tab", name="Compare strategies").click()
    page.wait_for_url(re.compile(r"/compare$"))
    wait_time(page, 0)
    page.wait_for_function("document.querySelectorAll('img.wommsim-network').length == 2")
    for step in (1, 2, 3):
        page.get_by_role("button", name="Step").click()
        wait_time(page, step)
    page.get_by_text("A: ad_heavy · week 3", exact=True).wait_for()
    page.get_by_text("B: conversation_led · week 3", exact=True).wait_for()
    # the comparison runs with the settings made on the model page
    assert "0%" in page.locator(".wommsim-label-consumer__ad_blind_fraction").inner_text()
    assert [t.count("never click 0%") for t in
            page.locator(".wommsim-running").all_inner_texts()] == [1, 1]
    page.wait_for_function(
        "[...document.querySelectorAll('img.wommsim-network, img.wommsim-plot')]"
        ".filter(e => e.complete && e.naturalWidth > 50).length >= 7")
    shoot(page, "4-compare-step-3.png", full_page=True)

    # the comparison as a duel: strategies A and B as brands a and b of one market
    page.locator(".v-select").filter(has_text="Compare").first.click()
    page.get_by_role("option", name="one market (duel)").click()
    page.get_by_role("button", name="Reset").click()
    wait_time(page, 0)
    page.get_by_role("button", name="Step").click()
    wait_time(page, 1)
    page.locator(".wommsim-week", has_text="Duel · a: ad_heavy vs b: conversation_led · "
                                           "week 1").wait_for()
    page.wait_for_function("document.querySelectorAll('img.wommsim-network').length == 1")
    for kind in ("share", "customers", "churn"):
        page.locator(f"img.wommsim-plot-{kind}").wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('img.wommsim-network, img.wommsim-plot')]"
        ".filter(e => e.complete && e.naturalWidth > 50).length == 9")
    assert "customer of a: ad_heavy" in page.locator(".wommsim-legend").inner_text()
    shoot(page, "5-compare-duel.png", full_page=True)

    # settings belong to a session: another tab of the same browser starts afresh
    other = context.new_page()
    other.goto(server + "/compare")
    wait_time(other, 0)
    assert [t.count("never click 96%") for t in
            other.locator(".wommsim-running").all_inner_texts()] == [1, 1]
    context.close()

    assert not watch.problems, "\n".join(watch.problems)


def assert_nothing_covers(page, selector: str) -> None:
    """Scrolled to the bottom of the page, each point of the element's lower edge (its axis
    label) is the element itself: no badge or other element lies on top of it."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    covered = page.evaluate("""sel => {
        const el = document.querySelector(sel);
        el.scrollIntoView({block: 'end'});
        const r = el.getBoundingClientRect();
        const hits = [];
        for (const f of [0.05, 0.25, 0.5, 0.75, 0.95]) {
            for (const [x, y] of [[r.left + f * r.width, r.bottom - 6],
                                  [r.right - 6, r.top + f * r.height]]) {
                const top = document.elementFromPoint(x, y);
                if (top !== el) hits.push(`${x|0},${y|0}: ${top && top.outerHTML.slice(0, 80)}`);
            }
        }
        return hits;
    }""", selector)
    assert not covered, covered
