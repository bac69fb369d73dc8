#!/usr/bin/env bash
# web_logic.sh - the incident page's logic in a real headless Chromium (web_logic.py says what
# it checks: the history polled incrementally, deduplicated and bounded; the timeline's lanes,
# marks, hostile names and kept focus; the grid updated cell by cell), on the page served by a
# real collector with no agent.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
	fl_fail "chromium or chromedriver not found: apt-get install chromium chromium-driver (scripts/install-deps.sh)"
/usr/bin/python3 -c 'import selenium' ||
	fl_fail "python3-selenium not found: apt-get install python3-selenium (scripts/install-deps.sh)"
fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector
/usr/bin/python3 "$FL_SOURCE/tests/integration/web_logic.py" "$FL_HTTP_URL/" ||
	fl_fail "the page's logic (web_logic.py, above)"
fl_log "ok: the page's history, timeline and grid logic"
