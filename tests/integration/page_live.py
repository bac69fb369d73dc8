#!/usr/bin/python3
"""page_live.py URL DIR - one browser tab on the incident page, through a whole incident:
proves that the page updates itself in place (no reload, scroll position kept) and that no
script from a hostile name ever runs (no alert). Drives headless Chromium with Debian's
chromium-driver and python3-selenium (hence /usr/bin/python3).

Steps (each waits up to 40 s; the test script drives the database meanwhile):
  1. the banner says HEALTHY; a marker is set on the document and the window scrolled down;
     DIR/ready is written (the test then revokes the grant);
  2. the banner says DATABASE and the orders cells fail, in the same document (marker still
     there), at the same scroll position; DIR/database is written (the test restores the grant);
  3. HEALTHY again, same document, same scroll position.
At every step: no alert is open, and no <img> element exists. Exit 0 when all held, 1 with
the reason otherwise.
"""
import os
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
        open(os.path.join(DIR, "database"), "w").close()

        wait_until(d, "HEALTHY again", lambda: banner(d) == "HEALTHY" and
                   all("status-ok" in c for c in orders_cells(d)))
        same_page(d, "HEALTHY again", y)
        check_safe(d, "the end")
        print("page_live: HEALTHY again in place; no alert, no <img>", file=sys.stderr)
    finally:
        d.quit()


main()
