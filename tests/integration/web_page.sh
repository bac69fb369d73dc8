#!/usr/bin/env bash
# web_page.sh - the incident page (GET /) in a real headless Chromium, against a real collector,
# two agents (1 s interval) and a real PostgreSQL (tests/lib/dbservers.sh):
#   - /, /app.js and /app.css: their content types, nosniff and a strict Content-Security-Policy
#     (default-src 'self', no 'unsafe-inline');
#   - healthy: the banner says HEALTHY and every cell is ok (✓);
#   - SELECT on public.orders revoked: within seconds the banner says DATABASE and each host's
#     orders cell is failing (✗, privilege_missing in its title) while app stays ok;
#   - during the fault `faultline verify --release 1.0` fails: the page's verifications say
#     release 1.0 "✗ failed" with a reason naming the orders probe; after the restore it passes
#     and the page says "✓ passed";
#   - the grant restored: HEALTHY again; the SVG timeline of the last hour then holds, in each
#     host's lane, an ok → fail (privilege_missing) and a fail → ok mark for orders, and in the
#     fleet lane the verdict changes healthy → database → healthy and both verifications;
#   - app1 moves to release 1.1: one table per release, captioned; app1 stops: its row says STALE;
#   - meanwhile one browser tab, open from the start (page_live.py, Selenium), follows the
#     whole incident by itself: same document, same scroll position, no alert;
#   - one agent is named `<img src=x onerror=alert(1)>` and has a probe named
#     `it's </script><b>bold</b>`: both render as literal text, the dumped DOM has no <img> and
#     no <b> element (nothing was parsed as HTML, so no script could run); in the timeline too
#     (its lane's label and its marks' titles are that text).
# A screenshot of each state goes to $FL_BUILD/test-artifacts/integration_web_page/.
# Needs root (PostgreSQL runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() { fl_db_cleanup; }

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: PostgreSQL runs as postgres (sudo ctest ...)"
command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
	fl_fail "chromium or chromedriver not found: apt-get install chromium chromium-driver (scripts/install-deps.sh)"
/usr/bin/python3 -c 'import selenium' ||
	fl_fail "python3-selenium not found: apt-get install python3-selenium (scripts/install-deps.sh)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"
ART=$FL_BUILD/test-artifacts/integration_web_page
mkdir -p "$ART"

HOSTILE_HOST='<img src=x onerror=alert(1)>'
HOSTILE_PROBE="it's </script><b>bold</b>"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector
fl_demo_hosts app1 app2
# app2 goes by a hostile name and has a probe named like markup.
sed -i "s|^name = app2\$|name = $HOSTILE_HOST|" "$FL_TMP/app2.conf"
cat >>"$FL_TMP/app2.conf" <<EOF

[tcp "$HOSTILE_PROBE"]
address = 127.0.0.1:$FL_PG_PORT
timeout = 2s
EOF
"$FL_AGENT_BIN" -c "$FL_TMP/app2.conf" --check-config || fl_fail "the hostile names' config is refused"
fl_start_agent app1
fl_start_agent app2

# --- headers -------------------------------------------------------------------------------------
# header_of PATH NAME: the value of header NAME in the reply to GET PATH.
header_of() {
	curl -sf -D - -o /dev/null "$FL_HTTP_URL$1" | tr -d '\r' |
		awk -v n="$(tr 'A-Z' 'a-z' <<<"$2")" 'BEGIN { FS = ": " } tolower($1) == n { print substr($0, length($1) + 3) }'
}
assert_eq "/ is HTML" "text/html; charset=utf-8" "$(header_of / Content-Type)"
assert_eq "/app.js is JavaScript" "text/javascript; charset=utf-8" "$(header_of /app.js Content-Type)"
assert_eq "/app.css is CSS" "text/css; charset=utf-8" "$(header_of /app.css Content-Type)"
for path in / /app.js /app.css /api/v1/status; do
	assert_eq "$path: nosniff" nosniff "$(header_of "$path" X-Content-Type-Options)"
	csp=$(header_of "$path" Content-Security-Policy)
	[[ $csp == "default-src 'self';"* && $csp == *"script-src 'self';"* && $csp == *"style-src 'self';"* &&
		$csp != *unsafe* ]] || fl_fail "$path: Content-Security-Policy is '$csp'"
done
fl_log "ok: content types, nosniff and CSP on the page, its assets and the API"
# The page's own files: no inline script or style, nothing from another origin.
page=$(curl -sf "$FL_HTTP_URL/")
grep -q '<script src="/app.js"' <<<"$page" || fl_fail "the page does not load /app.js"
if grep -Eq '<script>|<style|style=|https?://' <<<"$page"; then
	fl_fail "the page has inline code or a remote asset"
fi
js=$(curl -sf "$FL_HTTP_URL/app.js")
grep -q 'textContent' <<<"$js" || fl_fail "/app.js is not the page's script"
if grep -q 'innerHTML' <<<"$js"; then
	fl_fail "/app.js uses innerHTML"
fi

# --- the page in a browser ---------------------------------------------------------------------
# browser ARGS...: headless Chromium on the page, its noise in chromium.log.
browser() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$FL_TMP/chromium" \
		--virtual-time-budget=3000 "$@" "$FL_HTTP_URL/" 2>>"$FL_TMP/chromium.log"
}
# page_json: the page after its script ran, summarised by page_dom.py.
page_json() {
	browser --dump-dom | python3 "$FL_SOURCE/tests/integration/page_dom.py"
}
# page_is [JQ_ARGS...] JQ: for wait_for (prints the summary when false).
page_is() {
	local j
	j=$(page_json) || return 1
	jq -e "$@" <<<"$j" >/dev/null || {
		echo "$j"
		return 1
	}
}
# screenshot NAME [WxH]: the page as the browser draws it (1200x700 by default).
screenshot() {
	rm -f "$ART/$1.png"
	browser --hide-scrollbars --window-size="${2:-1200,700}" --screenshot="$ART/$1.png" >/dev/null
	[[ -s $ART/$1.png ]] || fl_fail "no screenshot $ART/$1.png"
	fl_log "screenshot: $ART/$1.png"
}

wait_for "both hosts report all their probes" 30 bash -c '
	"$0" -C "$1" status --json | jq -e "[.hosts[] | .probes | length] | sort == [2, 3]"' \
	"$FL_CLI_BIN" "$FL_CONTROL"
wait_for "the page says HEALTHY" 30 page_is \
	'.verdict == "HEALTHY" and (.banner_class | test("verdict-healthy")) and (.cells | length) == 5
	 and all(.cells[]; .status == "ok" and .mark == "✓")'
screenshot healthy
fl_log "ok: healthy page: HEALTHY, 5 cells ok"

# Hostile names: literal text in the DOM, never elements.
J=$(page_json)
assert_jq "the hostile host name is its row's text" "$J" --arg h "$HOSTILE_HOST" \
	'[.hosts[] | select(.host == $h and (.text | startswith($h)))] | length == 1'
assert_jq "the hostile probe name is a cell" "$J" --arg p "$HOSTILE_PROBE" \
	'[.cells[] | select(.probe == $p and .status == "ok")] | length == 1'
assert_jq "no <img> and no <b> element: nothing parsed as HTML" "$J" \
	'(.elements.img // 0) == 0 and (.elements.b // 0) == 0 and .elements.script == 1'
dom=$(browser --dump-dom)
grep -qF '&lt;img src=x onerror=alert(1)&gt;' <<<"$dom" || fl_fail "the host name is not escaped text in the DOM"
grep -qF "it's &lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" <<<"$dom" || fl_fail "the probe name is not escaped text in the DOM"

# One tab that stays open through the incident (page_live.py).
fl_start page-live /usr/bin/python3 "$FL_SOURCE/tests/integration/page_live.py" "$FL_HTTP_URL/" "$FL_TMP"
wait_for "the live tab shows HEALTHY, scrolled down" 60 test -e "$FL_TMP/ready"

# --- the fault -----------------------------------------------------------------------------------
t0=$SECONDS
fl_pg_sql "REVOKE SELECT ON public.orders FROM app"
wait_for "the page says DATABASE with the orders cells failing" 30 page_is \
	'.verdict == "DATABASE" and (.banner_class | test("verdict-database")) and (.summary | length) > 0
	 and ([.cells[] | select(.probe == "orders")] | length == 2
	      and all(.[]; .status == "fail" and .mark == "✗" and (.title | test("privilege_missing"))))
	 and all(.cells[] | select(.probe == "app"); .status == "ok")
	 and (.findings | length) >= 1'
fl_log "ok: the page said DATABASE $((SECONDS - t0)) s after the REVOKE"
screenshot database
# A verification during the fault fails; the page shows it with its reasons.
rc=0
fl_cli verify --release 1.0 --timeout 60s --json >"$FL_TMP/verify-failed.json" 2>"$FL_TMP/verify.err" || rc=$?
assert_eq "faultline verify fails during the fault (exit status)" 1 "$rc"
assert_jq "the verification failed" "$(cat "$FL_TMP/verify-failed.json")" '.result == "failed"'
wait_for "the page shows release 1.0's failed verification" 20 page_is \
	'[.verifications[] | select(.release == "1.0")] | length == 1 and
	 (.[0] | .result == "failed" and .text == "✗ failed" and any(.reasons[]; test("orders")))'
# The screenshot in the README: grid, timeline and verification (docs/incident-page.png).
screenshot database-verified 1200,1000
wait_for "the live tab shows DATABASE in place" 40 test -e "$FL_TMP/database"

fl_pg_sql "GRANT SELECT ON public.orders TO app"
wait_for "the page says HEALTHY again" 30 page_is \
	'.verdict == "HEALTHY" and all(.cells[]; .status == "ok")'
screenshot restored
fl_log "ok: HEALTHY again after the GRANT"
fl_cli verify --release 1.0 --timeout 60s >"$FL_TMP/verify.out" 2>&1 ||
	fl_fail "faultline verify fails after the restore: $(cat "$FL_TMP/verify.out")"
wait_for "the page shows release 1.0's passed verification" 20 page_is \
	'[.verifications[] | select(.release == "1.0") | [.result, .text]] == [["passed", "✓ passed"]]'
fl_log "ok: the page shows the last verification of release 1.0, failed then passed"

# --- the timeline --------------------------------------------------------------------------------
# Each host's lane: orders failed (privilege_missing) and recovered; the fleet lane: the verdict
# went healthy -> database -> healthy, and both verifications. Titles say it in words; each
# mark also carries its sign (colour is not the only signal).
wait_for "the timeline holds the incident" 20 page_is --arg h "$HOSTILE_HOST" '
	def marks($lane; $kind): [.marks[] | select(.lane == $lane and .kind == $kind)];
	def failed_and_recovered($lane): marks($lane; "status") |
		any(.title | contains(" " + $lane + ": orders ok → fail (privilege_missing)"))
		and any(.title | contains(" " + $lane + ": orders fail → ok"))
		and any(.text == "✗" and (.class | test("status-fail")))
		and any(.text == "✓" and (.class | test("status-ok")));
	([.lanes[].lane] | .[0] == "(fleet)" and any(.[]; . == "app1") and any(.[]; . == $h))
	and failed_and_recovered("app1") and failed_and_recovered($h)
	and (marks("(fleet)"; "verdict") | any(.title | contains("verdict: healthy → database"))
		and any(.title | contains("verdict: database → healthy")) and any(.text == "D"))
	and (marks("(fleet)"; "verification") | map(.title) |
		any(contains("verification of release 1.0: ✗ failed"))
		and any(contains("verification of release 1.0: ✓ passed")))'
J=$(page_json)
assert_jq "the hostile host name is its lane's label, as text" "$J" --arg h "$HOSTILE_HOST" \
	'[.lanes[] | select(.lane == $h) | .label] == [$h]'
assert_jq "the hostile host name is text in its marks' titles" "$J" --arg h "$HOSTILE_HOST" \
	'[.marks[] | select(.lane == $h) | .title | select(contains(" " + $h + ": orders"))] | length >= 2'
assert_jq "with the timeline drawn: no <img>, no <b> element" "$J" \
	'(.elements.img // 0) == 0 and (.elements.b // 0) == 0 and .elements.script == 1 and .elements.svg == 1'
grep -qF '<title>' <<<"$(browser --dump-dom)" || fl_fail "the timeline's marks have no <title>"
fl_log "ok: the timeline shows the fault and the recovery per host, and the verdict changes"

# --- releases and staleness ----------------------------------------------------------------------
echo 1.1 >"$FL_TMP/app1.release"
wait_for "one table per release" 30 page_is \
	'.tables == ["release 1.1 — 1 host", "release 1.0 — 1 host"]
	 and ([.hosts[] | select(.host == "app1") | .text] == ["app1release 1.1"])
	 and any(.marks[]; .lane == "app1" and .kind == "release" and .text == "R"
		and (.title | contains("app1: release 1.0 → 1.1")))'
fl_log "ok: hosts grouped by release, the new release's group first"
fl_stop agent-app1
wait_for "app1 shown stale" 60 page_is \
	'[.hosts[] | select(.host == "app1") | .stale and (.text | test("STALE since [0-9]{2}:[0-9]{2}:[0-9]{2}"))] == [true]
	 and ([.hosts[] | select(.stale)] | length) == 1
	 and any(.marks[]; .lane == "app1" and .kind == "stale" and .text == "S")'
screenshot releases-stale
fl_log "ok: the silent host is marked STALE"

rc=0
wait "$(fl_pid page-live)" || rc=$?
unset 'FL_PIDS[page-live]'
cat "$FL_TMP/page-live.log" >&2
assert_eq "the live tab followed the incident in place (page_live.py exit status)" 0 "$rc"
