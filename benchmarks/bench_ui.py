"""Benchmark the browser UI: first render and step-plus-redraw time by population size.

Usage::

    python benchmarks/bench_ui.py [--sizes 500 2000] [--steps 20] [--no-browser]
                                  [--out results.json] [--screenshot docs/ui.png]
                                  [--set market=duel market.category=repeat ...]

Two measurements per size (default 500 and 2,000 consumers; above 2,000 the network view
draws a sample of 2,000, so larger sizes cost about the same to draw):

* **server** (each size in a fresh Python subprocess, so the network and layout caches and
  matplotlib start cold): ``solara.render`` of the model page, as a browser session would
  build it: **first render s** (model, network, layout, the network PNG and five plot SVGs),
  the layout's own time, then ``--steps`` clicks on Step, each timed until the page has
  re-rendered (the model's step, the network redraw and five plots): **step+redraw ms**
  (median, mean, max). The same for the comparison page (two models, two networks, five
  plots with both), built after the model page in the same process, so on its cached
  network and layout.
* **browser** (needs ``/usr/bin/chromium`` and Playwright): ``python -m wommsim.ui`` on a
  free localhost port driven by headless Chromium: **page load s** from navigation until the
  network and the five plots are decoded in the page, and **step ms** from clicking Step
  until the new network image has been decoded (checked every animation frame; the page
  then shows the new step).

``--screenshot PATH`` also saves a picture of the model page (2,000 consumers, after
``--shot-steps`` steps) for the README. ``--set KEY=VALUE ...`` starts both measurements
with these settings (as ``python -m wommsim.ui KEY=VALUE``), e.g. ``market=duel`` for a
market of two brands.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]

SERVER_SIDE = r"""
import json, os, statistics, sys, time
n, steps = int(sys.argv[1]), int(sys.argv[2])
from wommsim.ui.params import parse_overrides
os.environ["WOMMSIM_UI_OVERRIDES"] = json.dumps({**parse_overrides(sys.argv[3:]),
                                                 "consumers": n})
t0 = time.perf_counter()
import ipyvuetify as v
import solara
from wommsim.ui import app
imports = time.perf_counter() - t0

def measure(page):
    t = time.perf_counter()
    _, rc = solara.render(solara.AppLayout(children=[page]), handle_error=False)
    first = time.perf_counter() - t
    button = rc.find(v.Btn, children=["Step"]).widget
    times = []
    for i in range(steps):
        t = time.perf_counter()
        button.click()
        times.append(1000 * (time.perf_counter() - t))
        assert rc.find(v.Html, children=[f"Time: {i + 1}.0"]).widgets
    return first, times

first, times = measure(app.ModelPage())
layout_s = app.make_model(app.initial_settings())[0].drawn.seconds
cfirst, ctimes = measure(app.ComparePage())
print(json.dumps({"imports_s": imports, "first_render_s": first, "layout_s": layout_s,
                  "step_ms": times, "compare_first_render_s": cfirst,
                  "compare_step_ms": ctimes}))
"""


def server_side(n: int, steps: int, settings: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", SERVER_SIDE, str(n), str(steps), *settings],
                          capture_output=True, text=True, timeout=900, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m wommsim.ui`` on a free localhost port, stopped on exit."""

    def __init__(self, *overrides: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wommsim.ui", "--port", str(self.port), *overrides],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the UI server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5):
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("the UI server did not start")

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


ALL_DRAWN = ("(imgs => imgs.length >= 6 && imgs.every(e => e.complete && e.naturalWidth > 50))"
             "([...document.querySelectorAll('img.wommsim-network, img.wommsim-plot')])")
NETWORK_SRC = "() => document.querySelector('img.wommsim-network').src"
NETWORK_CHANGED = ("old => { const e = document.querySelector('img.wommsim-network');"
                   " return e.src !== old && e.complete && e.naturalWidth > 50; }")


def browser_side(browser, n: int, steps: int, settings: list[str],
                 screenshot: Path | None = None) -> dict:
    with Server(*settings, f"consumers={n}") as server:
        page = browser.new_page(viewport={"width": 1400,
                                          "height": 1150 if screenshot else 1050})
        page.set_default_timeout(60_000)
        t = time.perf_counter()
        page.goto(server.url + "/")
        page.get_by_text("Time: 0.0", exact=True).wait_for()
        page.wait_for_function(ALL_DRAWN)
        load = time.perf_counter() - t
        times = []
        for i in range(steps):
            old = page.evaluate(NETWORK_SRC)
            t = time.perf_counter()
            page.get_by_role("button", name="Step").click()
            # checked every animation frame: a locator's wait retries after 0, 20, 100, 100
            # and then 500 ms, which would round a redraw just over 0.2 s up to 0.7 s
            page.wait_for_function(NETWORK_CHANGED, arg=old)
            times.append(1000 * (time.perf_counter() - t))
            page.get_by_text(f"Time: {i + 1}.0", exact=True).wait_for()  # the same update
        if screenshot is not None:
            page.wait_for_function(ALL_DRAWN)
            page.wait_for_timeout(500)
            page.screenshot(path=screenshot)
        page.close()
    return {"page_load_s": load, "browser_step_ms": times}


def summary(times: list[float]) -> str:
    return (f"{statistics.median(times):7.0f} {statistics.fmean(times):7.0f} "
            f"{max(times):7.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--screenshot", type=Path,
                        help="save a picture of the model page here (e.g. docs/ui.png)")
    parser.add_argument("--shot-steps", type=int, default=16)
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="start the UI with these settings, e.g. market=duel")
    args = parser.parse_args(argv)

    results = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "machine": f"{platform.processor() or platform.machine()}, "
                          f"{os.cpu_count()} cores, Python {platform.python_version()}",
               "steps": args.steps, "settings": args.set, "sizes": {}}
    for n in args.sizes:
        results["sizes"][n] = server_side(n, args.steps, args.set)

    use_browser = not args.no_browser and Path(CHROMIUM).exists()
    if use_browser:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                        headless=True)
            try:
                for n in args.sizes:
                    results["sizes"][n].update(browser_side(browser, n, args.steps,
                                                            args.set))
                if args.screenshot:
                    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                    browser_side(browser, 2000, args.shot_steps, args.set, args.screenshot)
            finally:
                browser.close()

    settings = f", {' '.join(args.set)}" if args.set else ""
    print(f"{results['date']}  {results['machine']}  ({args.steps} steps per size{settings})\n")
    print("                          server side (solara.render)                "
          "     browser (Chromium)")
    print("consumers  first s  layout s  step+redraw ms med/mean/max  compare: first s  "
          "step ms med    load s  step ms med/mean/max")
    for n, r in results["sizes"].items():
        line = (f"{n:>9,}  {r['first_render_s']:7.2f}  {r['layout_s']:8.2f}  "
                f"{summary(r['step_ms'])}      "
                f"{r['compare_first_render_s']:16.2f}  "
                f"{statistics.median(r['compare_step_ms']):11.0f}")
        if "page_load_s" in r:
            line += f"  {r['page_load_s']:8.2f}  {summary(r['browser_step_ms'])}"
        print(line)
    print(f"\n(import of the UI modules in the server-side run: "
          f"{next(iter(results['sizes'].values()))['imports_s']:.1f} s)")
    if not use_browser:
        print("browser timings skipped (--no-browser, or no /usr/bin/chromium)")
    if args.out:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
