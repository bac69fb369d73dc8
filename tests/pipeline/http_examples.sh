#!/usr/bin/env bash
# http_examples.sh - deploy/pipeline/argo-analysistemplate.yaml and flagger-canary.yaml work as
# written against a real collector's /api/v1/verify, with two agents probing their demo apps.
#
# Both files are parsed (python3-yaml) and checked (the web provider's successCondition, no
# retries on errors, the URL on /api/v1/verify; Flagger's cmd webhook with curl --fail). Then
# each is run the way its controller would: Argo's URL with the template's args substituted,
# the body evaluated by its successCondition; Flagger's command run by a shell, its exit status
# being the gate. Healthy release 1.0 -> both pass; app2's app answering 503 -> both fail (409).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init
python3 -c 'import yaml' 2>/dev/null || fl_fail "python3-yaml not found: apt-get install python3-yaml"
ARGO=$FL_SOURCE/deploy/pipeline/argo-analysistemplate.yaml
FLAGGER=$FL_SOURCE/deploy/pipeline/flagger-canary.yaml

yaml_json() { python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))' "$1"; }
argo=$(yaml_json "$ARGO")
assert_jq "argo: an AnalysisTemplate whose metric passes on result.result == \"passed\"" "$argo" \
	'.kind == "AnalysisTemplate" and (.spec.metrics[0] | .successCondition == "result.result == \"passed\""
	 and .failureLimit == 0 and .consecutiveErrorLimit == 0
	 and (.provider.web.url | test("/api/v1/verify\\?release=\\{\\{args.release\\}\\}"))
	 and .provider.web.timeoutSeconds > 300)'
flagger=$(yaml_json "$FLAGGER")
assert_jq "flagger: a Canary gated by a cmd webhook that GETs /api/v1/verify with curl --fail" "$flagger" \
	'.kind == "Canary" and (.spec.analysis.webhooks[0] | .metadata.type == "cmd"
	 and (.metadata.cmd | test("curl .*--fail .*/api/v1/verify\\?release=\\$\\{RELEASE\\}")))'

fl_start_collector
for h in app1 app2; do
	fl_start_app "app-$h"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	fl_conf_app_probe >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done

# argo_run: the template's URL with its args (release 1.0, defaults otherwise, the collector
# here) GET as the web provider does; prints "STATUS PASSED" (PASSED: the successCondition).
argo_run() {
	local url body code
	url=$(jq -r --arg c "$FL_HTTP_URL" '.spec.metrics[0].provider.web.url
		| gsub("\\{\\{args.collector\\}\\}"; $c) | gsub("\\{\\{args.release\\}\\}"; "1.0")
		| gsub("\\{\\{args.canary\\}\\}"; "") | gsub("\\{\\{args.rollback-to\\}\\}"; "")' <<<"$argo")
	[[ $url != *'{{'* ]] || fl_fail "an arg left in the URL: $url"
	body=$(curl -s --max-time 60 -w '\n%{http_code}' "$url")
	code=$(tail -n 1 <<<"$body")
	# successCondition result.result == "passed", with the body as `result`.
	echo "$code $(sed '$d' <<<"$body" | jq '.result == "passed"')"
}
# flagger_run: the webhook's command rendered as the file says (${RELEASE} substituted, as
# envsubst does; the collector here), run by a shell as the load tester does.
flagger_run() {
	local cmd
	cmd=$(jq -r '.spec.analysis.webhooks[0].metadata.cmd' <<<"$flagger")
	cmd=${cmd//\$\{RELEASE\}/1.0}
	cmd=${cmd//http:\/\/faultline-collector.monitoring.svc:7680/$FL_HTTP_URL}
	[[ $cmd == *"$FL_HTTP_URL/api/v1/verify?release=1.0&"* ]] || fl_fail "flagger: the command did not render: $cmd"
	timeout 60 sh -c "$cmd" >"$FL_TMP/flagger.out" 2>&1
}

wait_for "both hosts report 1.0" 20 bash -c \
	"curl -sf '$FL_HTTP_URL/api/v1/hosts' | jq -e '[.hosts[] | select(.release == \"1.0\" and .probes_failing == 0)] | length == 2'"
assert_eq "argo: healthy 1.0 -> 200, successCondition true" "200 true" "$(argo_run)"
flagger_run || fl_fail "flagger: the webhook command failed on a healthy release: $(cat "$FL_TMP/flagger.out")"
fl_log "ok: flagger: the webhook command passes on a healthy release"

fl_app_mode app-app2 503
wait_for "app2's probe failing" 20 bash -c \
	"curl -sf '$FL_HTTP_URL/api/v1/hosts' | jq -e '[.hosts[] | select(.host == \"app2\" and .probes_failing == 1)] | length == 1'"
assert_eq "argo: app2 failing -> 409, successCondition false" "409 false" "$(argo_run)"
if flagger_run; then
	fl_fail "flagger: the webhook command passed with app2 failing: $(cat "$FL_TMP/flagger.out")"
fi
grep -q "409" "$FL_TMP/flagger.out" || fl_fail "flagger: curl did not report the 409: $(cat "$FL_TMP/flagger.out")"
fl_log "ok: flagger: the webhook command fails (409) with app2 failing"
