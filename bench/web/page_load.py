#!/usr/bin/python3
"""page_load.py URL RUNS CELLS - loads the incident page RUNS times in headless Chromium
(chromium-driver + python3-selenium, hence /usr/bin/python3) with the browser cache off, and
prints the median and p90 of what the Performance API says, in ms from the navigation's start:

  painted   the first grid rendered: app.js's 'fl-grid-painted' mark (the frame after the
            first status + diagnose answers were drawn) - the figure issue 12 bounds (300 ms)
  drawn     the first grid in the document: 'fl-grid-drawn'
  answers   the status and diagnose answers both received (their resource entries)
  dcl       DOMContentLoaded

and the share of 'painted' spent after the answers arrived (building and rendering the grid).
Each run checks the grid holds CELLS cells. Exit 1 when a run does not draw the grid.
"""
import statistics
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

URL, RUNS, CELLS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

MEASURE = """
const mark = (n) => { const e = performance.getEntriesByName(n); return e.length ? e[0].startTime : null; };
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
const end = (p) => { const e = res.find((r) => r.name.endsWith(p)); return e ? e.responseEnd : null; };
const size = (p) => { const e = res.find((r) => r.name.endsWith(p)); return e ? e.encodedBodySize : null; };
return { painted: mark('fl-grid-painted'), drawn: mark('fl-grid-drawn'),
         status: end('/api/v1/status'), diagnose: end('/api/v1/diagnose'),
         status_bytes: size('/api/v1/status'), dcl: nav ? nav.domContentLoadedEventEnd : null,
         cells: document.querySelectorAll('#fleet td.cell').length };
"""


def p90(xs):
    s = sorted(xs)
    return s[max(0, -(-9 * len(s) // 10) - 1)]


def main():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    rows = []
    try:
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        for i in range(RUNS):
            d.get("about:blank")
            d.get(URL)
            deadline = time.monotonic() + 30
            m = d.execute_script(MEASURE)
            while m["painted"] is None and time.monotonic() < deadline:
                time.sleep(0.02)
                m = d.execute_script(MEASURE)
            if m["painted"] is None:
                print("page_load: run %d: the grid was never drawn" % (i + 1), file=sys.stderr)
                sys.exit(1)
            if m["cells"] != CELLS:
                print("page_load: run %d: %d cells, not %d" % (i + 1, m["cells"], CELLS), file=sys.stderr)
                sys.exit(1)
            m["answers"] = max(m["status"], m["diagnose"])
            rows.append(m)
            print("run %2d: painted %6.1f  drawn %6.1f  answers %6.1f  dcl %6.1f ms" %
                  (i + 1, m["painted"], m["drawn"], m["answers"], m["dcl"]))
    finally:
        d.quit()
    print("%d runs, %d cells, status %d bytes (ms from navigation start):" %
          (len(rows), CELLS, rows[0]["status_bytes"]))
    for k in ("painted", "drawn", "answers", "dcl"):
        xs = [r[k] for r in rows]
        print("  %-8s median %6.1f  p90 %6.1f  min %6.1f  max %6.1f" %
              (k, statistics.median(xs), p90(xs), min(xs), max(xs)))
    build = [r["painted"] - r["answers"] for r in rows]
    print("  painted - answers (grid built and rendered): median %.1f  p90 %.1f" %
          (statistics.median(build), p90(build)))


main()
