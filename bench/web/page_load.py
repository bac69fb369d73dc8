#!/usr/bin/python3
"""page_load.py URL CELLS FLOOR_URL RUNS - loads the incident page at URL (whose grid must hold
CELLS cells) and at FLOOR_URL (the same page on an empty collector: the floor), alternately,
RUNS times each, in headless Chromium (chromium-driver + python3-selenium, hence
/usr/bin/python3) with the browser cache off, and prints the median and p90 of what the
Performance API says, in ms from the navigation's start:

  painted   the first grid rendered: app.js's 'fl-grid-painted' mark (the frame after the
            first status + diagnose answers were drawn) - the figure issue 12 bounds (300 ms)
  drawn     the first grid in the document: 'fl-grid-drawn'
  answers   the status and diagnose answers both received (their resource entries)
  dcl       DOMContentLoaded (the page and app.js loaded and run)

then 'painted' minus 'answers' (the grid built and rendered) and the fleet's cost over the
floor. Exit 1 when a run does not draw its grid.
"""
import statistics
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

URL, CELLS, FLOOR_URL, RUNS = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
KEYS = ("painted", "drawn", "answers", "dcl")

MEASURE = """
const mark = (n) => { const e = performance.getEntriesByName(n); return e.length ? e[0].startTime : null; };
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
const entry = (p) => res.find((r) => r.name.endsWith(p));
const st = entry('/api/v1/status'), dg = entry('/api/v1/diagnose');
return { painted: mark('fl-grid-painted'), drawn: mark('fl-grid-drawn'),
         answers: st && dg ? Math.max(st.responseEnd, dg.responseEnd) : null,
         status_bytes: st ? st.encodedBodySize : null, dcl: nav ? nav.domContentLoadedEventEnd : null,
         cells: document.querySelectorAll('#fleet td.cell').length };
"""


def p90(xs):
    s = sorted(xs)
    return s[max(0, -(-9 * len(s) // 10) - 1)]


def load(d, url, cells, label, i):
    d.get("about:blank")
    d.get(url)
    deadline = time.monotonic() + 30
    m = d.execute_script(MEASURE)
    while (m["painted"] is None or m["answers"] is None) and time.monotonic() < deadline:
        time.sleep(0.02)
        m = d.execute_script(MEASURE)
    if m["painted"] is None or m["answers"] is None:
        sys.exit("page_load: %s run %d: the grid was never drawn" % (label, i))
    if m["cells"] != cells:
        sys.exit("page_load: %s run %d: %d cells, not %d" % (label, i, m["cells"], cells))
    print("%-5s run %2d: painted %6.1f  drawn %6.1f  answers %6.1f  dcl %6.1f ms" %
          (label, i, m["painted"], m["drawn"], m["answers"], m["dcl"]))
    return m


def summary(label, rows):
    print("%s: %d runs, status %d bytes (ms from navigation start):" %
          (label, len(rows), rows[0]["status_bytes"]))
    for k in KEYS:
        xs = [r[k] for r in rows]
        print("  %-8s median %6.1f  p90 %6.1f  min %6.1f  max %6.1f" %
              (k, statistics.median(xs), p90(xs), min(xs), max(xs)))
    build = [r["painted"] - r["answers"] for r in rows]
    print("  painted - answers (grid built and rendered): median %.1f  p90 %.1f" %
          (statistics.median(build), p90(build)))


def main():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    fleet, floor = [], []
    try:
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        load(d, URL, CELLS, "warm", 0)  # the browser's first page load is not counted
        for i in range(1, RUNS + 1):
            fleet.append(load(d, URL, CELLS, "fleet", i))
            floor.append(load(d, FLOOR_URL, 0, "floor", i))
    finally:
        d.quit()
    summary("fleet (%d cells)" % CELLS, fleet)
    summary("floor (empty collector)", floor)
    extra = [a["painted"] - b["painted"] for a, b in zip(fleet, floor)]
    print("fleet - floor, painted, run by run: median %.1f  p90 %.1f ms" %
          (statistics.median(extra), p90(extra)))


main()
