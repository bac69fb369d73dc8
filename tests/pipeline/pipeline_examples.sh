#!/usr/bin/env bash
# pipeline_examples.sh - deploy/pipeline/gitlab-ci.yml and github-actions.yml work as written.
#
# Both files are parsed (python3-yaml) and checked: control address tls+tcp://, a server name,
# the client certificate from CI variables / secrets, the verify JSON kept as an artifact. Then
# their shell steps run (tests/pipeline/run_ci.py, as GitLab and Actions run them) against a
# local collector whose control socket is tls+tcp:// with client certificates, and three agents
# (app1..app3) whose release files the mocked ./ci/deploy.sh rewrites:
#   - GitLab, tag 1.1 from 1.0, certificate as File variables (the key written 0644, as a File
#     variable may be): canary app1 verified, then app2,app3, with a rollback check: exit 0,
#     both verify JSON files say "passed";
#   - GitHub Actions, tag 1.2 from 1.1, certificate as secrets written by the workflow: the
#     same, through GITHUB_ENV;
#   - GitLab with a certificate of another CA: the job stops at its check of the collector and
#     deploys nothing.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init
command -v openssl >/dev/null || fl_fail "openssl not found: apt-get install openssl"
python3 -c 'import yaml' 2>/dev/null || fl_fail "python3-yaml not found: apt-get install python3-yaml"
GITLAB=$FL_SOURCE/deploy/pipeline/gitlab-ci.yml
GITHUB=$FL_SOURCE/deploy/pipeline/github-actions.yml
RUN_CI=$FL_SOURCE/tests/pipeline/run_ci.py

# --- the files as written ---------------------------------------------------------------------
yaml_json() { python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))' "$1"; }
gl=$(yaml_json "$GITLAB")
assert_jq "gitlab: the control address is tls+tcp:// (plain tcp is loopback only)" "$gl" \
	'.["deploy-and-verify"].variables.FAULTLINE_CONTROL | startswith("tls+tcp://")'
assert_jq "gitlab: a server name, the key made private, the JSON kept, tags only" "$gl" \
	'.["deploy-and-verify"] | (.variables.FAULTLINE_TLS_SERVER_NAME | length > 0)
	 and (.before_script | any(test("chmod 600 \"\\$FAULTLINE_TLS_KEY\"")))
	 and .artifacts.paths == ["verify-*.json"] and .artifacts.when == "always"
	 and (.rules[0].if | test("CI_COMMIT_TAG"))'
gh=$(yaml_json "$GITHUB")
assert_jq "github: the control address is tls+tcp://, with a server name" "$gh" \
	'.jobs[] | (.env.FAULTLINE_CONTROL | startswith("tls+tcp://"))
	 and (.env.FAULTLINE_TLS_SERVER_NAME | length > 0)'
assert_jq "github: on tags; the certificate from secrets; the JSON uploaded always" "$gh" \
	'(.true.push.tags // .on.push.tags) == ["*"]
	 and ([.jobs[].steps[].env // {} | .[]] | map(select(test("secrets.FAULTLINE_TLS_(CA|CERT|KEY)"))) | length == 3)
	 and ([.jobs[].steps[] | select(.uses // "" | startswith("actions/upload-artifact"))][0]
	      | .with.path == "verify-*.json" and .if == "always()")'

# --- a collector with a TLS control socket, three agents ----------------------------------------
PKI=$FL_TMP/pki
bash "$FL_SOURCE/tests/security/gen_certs.sh" "$PKI"
FL_REPORT_URL=tcp://127.0.0.1:$(fl_free_port)
FL_SURVEY_URL=tcp://127.0.0.1:$(fl_free_port)
FL_CONTROL=tls+tcp://127.0.0.1:$(fl_free_port)
cat >"$FL_TMP/collector.conf" <<EOF2
[collector]
listen = $FL_REPORT_URL
survey = $FL_SURVEY_URL
control = $FL_CONTROL
state = $FL_TMP/collector.db
tls_ca = $PKI/ca.crt
tls_cert = $PKI/server.crt
tls_key = $PKI/server.key
EOF2
# The harness's own CLI calls use the certificate through the environment; the pipelines do not
# inherit it (run_pipeline clears it).
export FAULTLINE_TLS_CA=$PKI/ca.crt FAULTLINE_TLS_CERT=$PKI/client.crt \
	FAULTLINE_TLS_KEY=$PKI/client.key FAULTLINE_TLS_SERVER_NAME=collector
fl_start_collector

echo '; no database requirements: the agents still keep a copy per release' >"$FL_TMP/app.expect"
for h in app1 app2 app3; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	{
		echo "expectations = $FL_TMP/app.expect"
		printf '\n[dns "localhost"]\nname = localhost\n'
	} >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done
on_release() { # RELEASE HOSTS...: every host reports RELEASE and kept its expectations
	local r=$1 h json
	shift
	json=$(fl_cli_json hosts) || return 1
	for h in "$@"; do
		jq -e --arg h "$h" --arg r "$r" '.hosts[] | select(.host == $h) | .release == $r' \
			<<<"$json" >/dev/null || return 1
		[[ -e $FL_TMP/$h.state/releases/$r.expect ]] || return 1
	done
}
wait_for "app1..app3 report release 1.0" 30 on_release 1.0 app1 app2 app3

# The repository the jobs run in: deploy/ from the source tree, and the two scripts the examples
# call, mocked: ./ci/deploy.sh rewrites the agents' release files, ./ci/current-release.sh
# prints what production runs.
WORK=$FL_TMP/work
mkdir -p "$WORK/ci"
ln -s "$FL_SOURCE/deploy" "$WORK/deploy"
cat >"$WORK/ci/deploy.sh" <<EOF2
#!/usr/bin/env bash
set -euo pipefail
IFS=, read -ra hosts <<<"\$2"
for h in "\${hosts[@]}"; do
	echo "\$1" >"$FL_TMP/\$h.release.new" && mv "$FL_TMP/\$h.release.new" "$FL_TMP/\$h.release"
done
echo "\$1 \$2" >>"$FL_TMP/deploys.log"
EOF2
printf '#!/bin/sh\ncat %s\n' "$FL_TMP/current" >"$WORK/ci/current-release.sh"
chmod 755 "$WORK/ci/deploy.sh" "$WORK/ci/current-release.sh"
touch "$FL_TMP/deploys.log"

# run_pipeline KIND FILE ARGS...: run_ci.py in $WORK with the built CLI on PATH, none of this
# test's FAULTLINE_* settings, and the collector's address as a CI variable would override the
# file's (collector.internal does not resolve here); the certificate's name is "collector".
run_pipeline() {
	local kind=$1 file=$2
	shift 2
	env -u FAULTLINE_TLS_CA -u FAULTLINE_TLS_CERT -u FAULTLINE_TLS_KEY \
		-u FAULTLINE_TLS_SERVER_NAME -u FAULTLINE_CONTROL PATH="$FL_BUILD/cli:$PATH" \
		python3 "$RUN_CI" "$kind" "$file" "$WORK" --set FAULTLINE_CONTROL="$FL_CONTROL" \
		--set FAULTLINE_TLS_SERVER_NAME=collector --set VERIFY_TIMEOUT=60s "$@" \
		>>"$FL_TMP/pipeline.log" 2>&1
}

# --- GitLab: 1.0 -> 1.1 -------------------------------------------------------------------------
echo 1.0 >"$FL_TMP/current"
mkdir -p "$FL_TMP/gitlab-files"
for v in CA:ca.crt CERT:client.crt KEY:client.key; do
	cp "$PKI/${v#*:}" "$FL_TMP/gitlab-files/FAULTLINE_TLS_${v%%:*}"
done
chmod 644 "$FL_TMP/gitlab-files/"*
fl_log "gitlab job: tag 1.1 (log: pipeline.log)"
rc=0
run_pipeline gitlab "$GITLAB" --set CI_COMMIT_TAG=1.1 \
	--set FAULTLINE_TLS_CA="$FL_TMP/gitlab-files/FAULTLINE_TLS_CA" \
	--set FAULTLINE_TLS_CERT="$FL_TMP/gitlab-files/FAULTLINE_TLS_CERT" \
	--set FAULTLINE_TLS_KEY="$FL_TMP/gitlab-files/FAULTLINE_TLS_KEY" || rc=$?
assert_eq "the gitlab job passes (exit status)" 0 "$rc"
assert_eq "the gitlab job deployed 1.1 to the canary, then to the rest" \
	"1.1 app1|1.1 app2,app3" "$(paste -sd'|' "$FL_TMP/deploys.log")"
for f in verify-canary-1.1.json verify-all-1.1.json; do
	assert_jq "gitlab: $f says passed" "$(cat "$WORK/$f")" '.release == "1.1" and .result == "passed"'
done
assert_jq "gitlab: the second verify checked the rollback to 1.0" \
	"$(cat "$WORK/verify-all-1.1.json")" '.rollback.release == "1.0" and .rollback.ready'
assert_eq "the job made the key private" 600 "$(stat -c %a "$FL_TMP/gitlab-files/FAULTLINE_TLS_KEY")"

# --- GitHub Actions: 1.1 -> 1.2 -----------------------------------------------------------------
echo 1.1 >"$FL_TMP/current"
: >"$FL_TMP/deploys.log"
fl_log "github workflow: tag 1.2 (log: pipeline.log)"
rc=0
run_pipeline github "$GITHUB" --set GITHUB_REF_NAME=1.2 \
	--secret FAULTLINE_TLS_CA="$(cat "$PKI/ca.crt")" \
	--secret FAULTLINE_TLS_CERT="$(cat "$PKI/client.crt")" \
	--secret FAULTLINE_TLS_KEY="$(cat "$PKI/client.key")" || rc=$?
assert_eq "the github workflow passes (exit status)" 0 "$rc"
assert_eq "the workflow deployed 1.2 to the canary, then to the rest" \
	"1.2 app1|1.2 app2,app3" "$(paste -sd'|' "$FL_TMP/deploys.log")"
for f in verify-canary-1.2.json verify-all-1.2.json; do
	assert_jq "github: $f says passed" "$(cat "$WORK/$f")" '.release == "1.2" and .result == "passed"'
done
assert_eq "the workflow wrote the key 0600" 600 \
	"$(stat -c %a "$WORK/.runner-temp/faultline-tls/client.key")"
grep -q -- '-- skip (uses actions/checkout@v4)' "$FL_TMP/pipeline.log" ||
	fl_fail "the checkout step was not seen"

# --- a certificate of another CA: stop before deploying --------------------------------------
: >"$FL_TMP/deploys.log"
cp "$PKI/other-client.key" "$FL_TMP/gitlab-files/FAULTLINE_TLS_KEY"
cp "$PKI/other-client.crt" "$FL_TMP/gitlab-files/FAULTLINE_TLS_CERT"
rc=0
run_pipeline gitlab "$GITLAB" --set CI_COMMIT_TAG=1.3 \
	--set FAULTLINE_TLS_CA="$FL_TMP/gitlab-files/FAULTLINE_TLS_CA" \
	--set FAULTLINE_TLS_CERT="$FL_TMP/gitlab-files/FAULTLINE_TLS_CERT" \
	--set FAULTLINE_TLS_KEY="$FL_TMP/gitlab-files/FAULTLINE_TLS_KEY" || rc=$?
((rc != 0)) || fl_fail "with a certificate of another CA the job passed"
grep -q 'cannot reach the collector' "$FL_TMP/pipeline.log" ||
	fl_fail "the job did not stop at its check of the collector"
[[ ! -s $FL_TMP/deploys.log ]] || fl_fail "it deployed anyway: $(cat "$FL_TMP/deploys.log")"
fl_log "ok: nothing deployed"
