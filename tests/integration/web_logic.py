#!/usr/bin/python3
"""web_logic.py URL - the incident page's own logic (collector/web/app.js), run in the page in
headless Chromium (chromium-driver + python3-selenium, hence /usr/bin/python3) against a
collector with no agent: the page's 2 s loop is stopped first, then each check feeds the
page's functions made-up answers and reads the DOM they produce.

  history:  the first request asks for the hour (since=1h), later ones since the newest event
            held; an event read twice (since= is inclusive) is kept once; a reply cut at the
            limit is said under the timeline; events older than the hour, and the oldest
            beyond TIMELINE_MAX, are dropped
  lanes:    the fleet's lane first, then at most TIMELINE_LANES hosts, the most recently
            active (then hosts without events), by name; the others counted under the timeline
  marks:    every kind has a sign or letter and a shape (ok and fail differ in both, not only
            in colour); hostile host and probe names are text in labels and titles, and no
            element is made from them; keyboard focus stays on its mark across a redraw
  grid:     the same answer again changes nothing in the DOM; one probe's new status changes
            that cell only; a new host rebuilds the grid
Exit 0 when all held, 1 with the reason otherwise.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

URL = sys.argv[1]


def fail(why):
    print("web_logic: FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def check(what, ok, got=None):
    if not ok:
        fail(what + ("" if got is None else ": got %r" % (got,)))
    print("web_logic: ok: " + what, file=sys.stderr)


def wait_until(d, what, js, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if d.execute_script(js):
            return
        time.sleep(0.1)
    fail("timed out waiting for " + what)


# Runs in the page before each check: an empty timeline, and helpers to make events.
SETUP = """
timeline.events = []; timeline.keys = new Set(); timeline.newest = ''; timeline.version = 0;
timeline.drawn = ''; timeline.cut = ''; timeline.cutAt = 0; timeline.error = ''; timeline.hosts = [];
window.ev = (agoMs, host, kind, probe, from, to) => ({ at: new Date(Date.now() - agoMs).toISOString(),
    host: host, kind: kind, probe: probe || '', from: from || '', to: to || '', failure: 'none', detail: '' });
"""


def js(d, body, *args):
    return d.execute_script(SETUP + body, *args)


def history(d):
    r = js(d, """
const first = historyPath();
const a = ev(5000, 'app1', 'status', 'orders', 'ok', 'fail'), b = ev(4000, 'app2', 'status', 'orders', 'ok', 'fail');
mergeHistory({ events: [a, b] }, 0);
const v1 = timeline.version, next = historyPath();
// The next reply starts with b again (since= is inclusive).
const c = ev(1000, 'app1', 'status', 'orders', 'fail', 'ok');
mergeHistory({ events: [Object.assign({}, b), c] }, Date.parse(b.at));
return { first: first, next: next, b_at: b.at, n: timeline.events.length, newest: timeline.newest,
         c_at: c.at, v1: v1, v2: timeline.version, cut: timeline.cut };
""")
    check("the first history request asks for the hour, bounded",
          r["first"] == "/api/v1/history?limit=1000&since=1h", r["first"])
    check("the next asks since the newest event held",
          r["next"] == "/api/v1/history?limit=1000&since=" + r["b_at"].replace(":", "%3A"), r["next"])
    check("an event read twice is kept once", r["n"] == 3 and r["newest"] == r["c_at"], r)
    check("no cut note while replies are under the limit", r["cut"] == "", r["cut"])

    r = js(d, """
const evs = [];
for (let i = 0; i < HISTORY_LIMIT; i++) { evs.push(ev(50000 - i * 10, 'h' + (i % 7), 'status', 'p', 'ok', 'fail')); }
mergeHistory({ events: evs }, Date.now() - 600000);
drawTimeline();
return { cut: timeline.cut, note: document.getElementById('timeline-note').textContent };
""")
    check("a reply cut at the limit is said under the timeline",
          "more than 1000 events at once" in r["note"] and "not drawn" in r["note"], r)

    r = js(d, """
const evs = [ev(2 * HOUR_MS, 'old', 'stale'), ev(HOUR_MS + 60000, 'old', 'back')];
for (let i = 0; i < TIMELINE_MAX + 200; i++) { evs.push(ev(3000000 - i * 100, 'h' + (i % 9), 'status', 'p' + i, 'ok', 'warn')); }
mergeHistory({ events: evs }, 0);
pruneHistory(Date.now());
const probes = timeline.events.map((e) => e.probe);
return { n: timeline.events.length, keys: timeline.keys.size, hosts: Array.from(new Set(timeline.events.map((e) => e.host))),
         first: probes[0], last: probes[probes.length - 1] };
""")
    check("events older than the hour are dropped, and the oldest beyond TIMELINE_MAX",
          r["n"] == 5000 and r["keys"] == 5000 and "old" not in r["hosts"] and
          r["first"] == "p200" and r["last"] == "p5199", r)


def lanes(d):
    r = js(d, """
const evs = [];
for (let i = 0; i < 60; i++) { evs.push(ev(600000 - i * 1000, 'host' + String(i).padStart(2, '0'), 'status', 'p', 'ok', 'fail')); }
evs.push(ev(500, '', 'verdict', '', 'healthy', 'database'));
mergeHistory({ events: evs }, 0);
timeline.hosts = ['quiet1', 'quiet2', 'host59'];
drawTimeline();
return { lanes: Array.from(document.querySelectorAll('#timeline g.lane')).map((g) => g.getAttribute('data-lane')),
         note: document.getElementById('timeline-note').textContent };
""")
    want = ["(fleet)"] + ["host%02d" % i for i in range(20, 60)]
    check("the fleet's lane, then the 40 most recently active hosts by name", r["lanes"] == want, r["lanes"])
    check("the hosts not drawn are counted", "22 more hosts not drawn" in r["note"], r["note"])
    r = js(d, """
mergeHistory({ events: [ev(5000, 'app1', 'status', 'orders', 'ok', 'fail')] }, 0);
timeline.hosts = ['app1', 'app2'];
drawTimeline();
return Array.from(document.querySelectorAll('#timeline g.lane')).map((g) => g.getAttribute('data-lane'));
""")
    check("hosts without events get a lane while there is room", r == ["(fleet)", "app1", "app2"], r)


def marks(d):
    r = js(d, """
const kinds = [['status', 'ok'], ['status', 'warn'], ['status', 'fail'], ['status', 'unknown'],
    ['verdict', 'healthy'], ['verdict', 'database'], ['verdict', 'code'], ['verdict', 'network'],
    ['verification', 'passed'], ['verification', 'failed'], ['verification', 'unverified'],
    ['release', '1.1'], ['stale', 'stale'], ['back', 'reporting'], ['forgotten', 'forgotten'], ['dns', '10.0.0.9']];
return kinds.map(([k, to]) => [k, to, markOf(ev(0, 'h', k, 'p', '', to))]);
""")
    check("every kind of event has a sign or letter and a shape",
          all(m["text"] and m["shape"] and m["cls"] for _, _, m in r), r)
    by = {(k, to): m for k, to, m in r}
    ok, bad = by[("status", "ok")], by[("status", "fail")]
    check("ok and fail differ in sign and shape, not only in colour",
          ok["text"] != bad["text"] and ok["shape"] != bad["shape"], (ok, bad))

    host = "<svg onload=alert(1)>"
    probe = "\"><script>alert(2)</script>"
    r = js(d, """
const host = arguments[0], probe = arguments[1];
mergeHistory({ events: [ev(9000, host, 'status', probe, 'ok', 'fail'), ev(8000, '', 'verdict', '', 'healthy', 'code')] }, 0);
timeline.hosts = [host];
drawTimeline();
const lane = Array.from(document.querySelectorAll('#timeline g.lane')).find((g) => g.getAttribute('data-lane') === host);
const mark = document.querySelector('#timeline g.mark[data-kind="status"]');
return { label: lane ? lane.querySelector('text.lane-label').firstChild.textContent : null,
         title: mark ? mark.querySelector('title').textContent : null,
         scripts: document.getElementsByTagName('script').length,
         svgs: document.getElementsByTagName('svg').length,
         onload: document.querySelectorAll('[onload]').length };
""", host, probe)
    check("a hostile host name is its lane's label, as text", r["label"] == host, r)
    check("hostile names are text in the mark's title",
          r["title"] is not None and (host + ": " + probe + " ok \u2192 fail") in r["title"], r)
    check("no element made from the names", r["scripts"] == 1 and r["svgs"] == 1 and r["onload"] == 0, r)

    r = js(d, """
mergeHistory({ events: [ev(9000, 'app1', 'status', 'orders', 'ok', 'fail')] }, 0);
timeline.hosts = ['app1'];
drawTimeline();
const m = document.querySelector('#timeline g.mark');
m.focus();
const before = document.activeElement.getAttribute('data-key');
mergeHistory({ events: [ev(1000, 'app1', 'status', 'orders', 'fail', 'ok')] }, 0);
drawTimeline();
return { before: before, after: document.activeElement.getAttribute && document.activeElement.getAttribute('data-key'),
         marks: document.querySelectorAll('#timeline g.mark').length, replaced: !document.body.contains(m) };
""")
    check("keyboard focus stays on its mark when the timeline is redrawn",
          r["before"] and r["after"] == r["before"] and r["marks"] == 2 and r["replaced"], r)


def grid(d):
    r = d.execute_script("""
const probe = (name, status) => ({ name: name, kind: 'tcp', status: status, failure: status === 'ok' ? 'none' : 'refused',
    detail: '', latency_ms: 1.5 });
const host = (name, a, b) => ({ host: name, release: '1.0', stale: false, last_seen: new Date().toISOString(),
    probes: [probe('a', a), probe('b', b)] });
const status = (hosts) => ({ hosts: hosts, verifications: [] });
fleetLayout = '';
drawFleet(status([host('app1', 'ok', 'ok'), host('app2', 'ok', 'ok')]));
const fleet = document.getElementById('fleet');
const changed = new Set();
let n = 0;
const mo = new MutationObserver((list) => { for (const m of list) { n++; changed.add(m.target.closest('td, th, tr, table, div')); } });
mo.observe(fleet, { subtree: true, childList: true, attributes: true, characterData: true });
drawFleet(status([host('app1', 'ok', 'ok'), host('app2', 'ok', 'ok')]));
const same = mo.takeRecords().length;
drawFleet(status([host('app1', 'ok', 'ok'), host('app2', 'ok', 'fail')]));
const recs = mo.takeRecords();
const targets = new Set(recs.map((m) => (m.target.nodeType === 1 ? m.target : m.target.parentNode).closest('td')));
const cell = document.querySelector('tr[data-host="app2"] td[data-probe="b"]');
drawFleet(status([host('app1', 'ok', 'ok'), host('app2', 'ok', 'fail'), host('app3', 'ok', 'ok')]));
mo.disconnect();
return { same: same, records: recs.length, targets: Array.from(targets).map((t) => t && t.parentNode.getAttribute('data-host') + '/' + t.getAttribute('data-probe')),
         cls: cell.className, text: cell.textContent, rebuilt: !document.body.contains(fleet),
         rows: document.querySelectorAll('#fleet tr.host').length };
""")
    check("the same answer again changes nothing in the grid", r["same"] == 0, r)
    check("one probe's new status changes that cell only",
          r["records"] > 0 and r["targets"] == ["app2/b"] and "status-fail" in r["cls"] and r["text"] == "\u2717", r)
    check("a new host rebuilds the grid", r["rebuilt"] and r["rows"] == 3, r)


def main():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        d.get(URL)
        wait_until(d, "the page's first timeline", "return document.querySelector('#timeline svg') !== null")
        # Stop the page's loop: the poll already scheduled runs once more and then ends.
        d.execute_script("poll = function () { window.flStopped = true; };")
        wait_until(d, "the page's loop to stop", "return window.flStopped === true")
        history(d)
        lanes(d)
        marks(d)
        grid(d)
    finally:
        d.quit()


main()
