#!/usr/bin/python3
"""page_live.py URL DIR - one browser tab on the incident page, through a whole incident:
proves that the page updates itself in place (no reload, scroll position kept) and that no
script from a hostile name ever runs (no alert). Drives headless Chromium with Debian's
chromium-driver and python3-selenium (hence /usr/bin/python3).

Steps (each waits up to 40 s; the test script drives the database meanwhile):
  1. the banner says HEALTHY; a marker is set on the document and the window scrolled down;
     DIR/ready is written (the test then revokes the grant);
  2. the banner says DATABASE and the orders cells fail, in the same document (marker still
     there), at the same scroll position; the first timeline mark of the fleet lane is given
     keyboard focus; DIR/database is written (the test restores the grant);
  3. HEALTHY again, same document, same scroll position; the timeline, which the tab only
     extends (history asked since the newest event it holds), gains app1's orders fail -> ok
     mark and the verdict's database -> healthy; the focused mark still has the focus after
     those redraws; the tab asked /api/v1/history for the hour (since=1h) only until it held
     an event, then only since an RFC 3339 time, always with limit=.
At every step: no alert is open, and no <img> element exists. Exit 0 when all held, 1 with
the reason otherwise.
"""
import os
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service

URL, DIR = sys.argv[1], sys.argv[2]
WAIT_S = 40


def fail(why):
    print("page_live: FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def banner(d):
    return d.execute_script("return document.getElementById('verdict-word').textContent")


def orders_cells(d):
    return d.execute_script(
        "return Array.from(document.querySelectorAll('td[data-probe=\"orders\"]'))"
        ".map((td) => td.className)")


def mark_titles(d, lane):
    return d.execute_script(
        "return Array.from(document.querySelectorAll('#timeline g.mark'))"
        ".filter((g) => g.getAttribute('data-lane') === arguments[0])"
        ".map((g) => g.querySelector('title').textContent)", lane)


def focused_key(d):
    return d.execute_script(
        "const a = document.activeElement; return a && a.getAttribute ? a.getAttribute('data-key') : null")


def history_requests(d):
    return d.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
        ".filter((n) => n.includes('/api/v1/history'))")


def check_safe(d, step):
    try:
        text = d.switch_to.alert.text
        fail(step + ": an alert is open: " + text)
    except NoAlertPresentException:
        pass
    if d.execute_script("return document.getElementsByTagName('img').length") != 0:
        fail(step + ": an <img> element exists")


def wait_until(d, what, cond):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        check_safe(d, what)
        if cond():
            return
        time.sleep(0.2)
    fail("timed out waiting for " + what + " (banner: " + banner(d) + ")")


def same_page(d, step, y):
    if d.execute_script("return window.flLiveMarker") != "kept":
        fail(step + ": the document was reloaded or replaced (marker gone)")
    got = d.execute_script("return window.scrollY")
    if abs(got - y) > 1:
        fail(step + ": scroll position moved from %s to %s" % (y, got))


def main():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=900,300",
              "--user-data-dir=" + os.path.join(DIR, "live-profile")):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        d.get(URL)
        d.execute_script("performance.setResourceTimingBufferSize(100000)")
        wait_until(d, "HEALTHY", lambda: banner(d) == "HEALTHY")
        d.execute_script("window.flLiveMarker = 'kept'; window.scrollTo(0, 120)")
        y = d.execute_script("return window.scrollY")
        if y <= 0:
            fail("the page is too short to scroll (scrollY %s)" % y)
        open(os.path.join(DIR, "ready"), "w").close()

        wait_until(d, "DATABASE with failing orders cells",
                   lambda: banner(d) == "DATABASE" and len(orders_cells(d)) == 2 and
                   all("status-fail" in c for c in orders_cells(d)))
        same_page(d, "DATABASE", y)
        print("page_live: DATABASE shown in place at scrollY %s" % y, file=sys.stderr)
        wait_until(d, "a timeline mark in the fleet lane", lambda: len(mark_titles(d, "(fleet)")) > 0)
        d.execute_script("document.querySelector('#timeline g.mark[data-lane=\"(fleet)\"]').focus()")
        key = focused_key(d)
        if not key:
            fail("a timeline mark cannot take the keyboard focus")
        d.execute_script("window.scrollTo(0, arguments[0])", y)  # focus() may have scrolled
        open(os.path.join(DIR, "database"), "w").close()

        wait_until(d, "HEALTHY again", lambda: banner(d) == "HEALTHY" and
                   all("status-ok" in c for c in orders_cells(d)))
        same_page(d, "HEALTHY again", y)
        wait_until(d, "the timeline extended with the recovery",
                   lambda: any(" app1: orders fail \u2192 ok" in t for t in mark_titles(d, "app1")) and
                   any("verdict: database \u2192 healthy" in t for t in mark_titles(d, "(fleet)")))
        if focused_key(d) != key:
            fail("the focused timeline mark lost the focus when the timeline was redrawn")
        asked = history_requests(d)
        if not asked or "since=1h" not in asked[0] or any("limit=" not in u for u in asked):
            fail("history requests: %s" % asked[:3])
        # since=1h while the tab holds no event; then only since the newest one held.
        later = [u for u in asked if "since=1h" not in u]
        if len(later) < 3 or not all(re.search(r"since=20[0-9]{2}-[0-9]{2}-[0-9]{2}T", u) for u in later) \
                or asked[len(asked) - len(later):] != later:
            fail("the tab did not ask history incrementally: %s" % asked)
        print("page_live: timeline extended in place (%d history requests, only the first for the hour)"
              % len(asked), file=sys.stderr)
        check_safe(d, "the end")
        print("page_live: HEALTHY again in place; no alert, no <img>", file=sys.stderr)
    finally:
        d.quit()


main()
