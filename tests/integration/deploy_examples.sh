#!/usr/bin/env bash
# deploy_examples.sh - the shipped examples stay valid: deploy/agent.conf.example (as shipped,
# and with its "#"-commented probe examples enabled) and deploy/collector.conf.example pass
# --check-config (and deploy/ha's two collector configs), and deploy/faultline.expect.example and
# the demo release's expectations load without an expectations error.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init "$FL_AGENT_BIN" "$FL_COLLECTOR_BIN"

out=$("$FL_COLLECTOR_BIN" --check-config -c "$FL_SOURCE/deploy/collector.conf.example" 2>&1) ||
	fl_fail "collector.conf.example is rejected: $out"
fl_log "ok: collector.conf.example passes --check-config"

# The HA pair (deploy/ha): both collector configs, their password file pointed here.
(umask 077 && echo secret-not-used >"$FL_TMP/state.password")
for c in c1 c2; do
	sed "s#^password_file = .*#password_file = $FL_TMP/state.password#" \
		"$FL_SOURCE/deploy/ha/collector-$c.conf" >"$FL_TMP/collector-$c.conf"
	out=$("$FL_COLLECTOR_BIN" --check-config -c "$FL_TMP/collector-$c.conf" 2>&1) ||
		fl_fail "deploy/ha/collector-$c.conf is rejected: $out"
	grep -q "^name = $c\$" "$FL_TMP/collector-$c.conf" || fl_fail "collector-$c.conf is not named $c"
done
fl_log "ok: deploy/ha's collector configs pass --check-config"

# As shipped (it is the packages' /etc/faultline/agent.conf): valid, with no probe.
out=$("$FL_AGENT_BIN" --check-config -c "$FL_SOURCE/deploy/agent.conf.example" 2>&1) ||
	fl_fail "agent.conf.example as shipped is rejected: $out"
fl_log "ok: agent.conf.example as shipped passes --check-config"

# With every probe example enabled. The example's password files and state dir exist on a real
# host only: point them here.
(umask 077 && echo secret-not-used >"$FL_TMP/pw")
sed -e 's/^#//' -e "s|/etc/faultline/[a-z]*\.password|$FL_TMP/pw|" \
	-e "s|^state_dir = .*|state_dir = $FL_TMP/state|" \
	-e "s|^release_file = .*|release_file = $FL_TMP/RELEASE|" \
	"$FL_SOURCE/deploy/agent.conf.example" >"$FL_TMP/agent.conf"
out=$("$FL_AGENT_BIN" --check-config -c "$FL_TMP/agent.conf" 2>&1) ||
	fl_fail "agent.conf.example with its probes enabled is rejected: $out"
probes=$(grep -c '^\[' "$FL_TMP/agent.conf")
assert_eq "the enabled example has [agent] and five probe sections" 6 "$probes"
fl_log "ok: agent.conf.example with its probes enabled passes --check-config"

# One round with each expectations file: the probes fail (nothing listens), but the file must
# load. Only the [agent] section and the database probes are kept, with short timeouts.
for expect in deploy/faultline.expect.example deploy/demo/release-1.0.expect; do
	mkdir -p "$FL_TMP/state"
	echo 1.0 >"$FL_TMP/RELEASE"
	cat >"$FL_TMP/once.conf" <<-EOF2
		[agent]
		name = examples
		release_file = $FL_TMP/RELEASE
		expectations = $FL_SOURCE/$expect
		state_dir = $FL_TMP/state

		[postgres "orders"]
		conninfo = host=127.0.0.1 port=$(fl_free_port) dbname=orders user=app
		password_file = $FL_TMP/pw
		timeout = 1s

		[mysql "legacy"]
		host = 127.0.0.1
		port = $(fl_free_port)
		user = app
		database = legacy
		password_file = $FL_TMP/pw
		timeout = 1s
	EOF2
	rc=0
	json=$("$FL_AGENT_BIN" --once --json -c "$FL_TMP/once.conf" 2>"$FL_TMP/once.log") || rc=$?
	assert_eq "$expect: one round with nothing listening exits 1" 1 "$rc"
	assert_jq "$expect loads without an expectations error" "$json" \
		'(.expectations_error // "") == "" and (.results | length) == 2
		and all(.results[]; .failure == "refused")'
	if grep -q secret-not-used <<<"$json$(cat "$FL_TMP/once.log")"; then
		fl_fail "the password appears in the agent's output"
	fi
done

# The systemd units parse (systemd-analyze verify: unknown keys, bad values, missing binaries
# and manual pages), with their ExecStart pointed at this build.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$FL_TMP/units"
	for u in "$FL_SOURCE"/deploy/systemd/*.service; do
		sed -e "s|/usr/bin/faultline-agent|$FL_AGENT_BIN|g" \
			-e "s|/usr/bin/faultline-collector|$FL_COLLECTOR_BIN|g" "$u" >"$FL_TMP/units/${u##*/}"
	done
	# Documentation=man:... must name pages of man/ (systemd-analyze asks man for them).
	for s in 1 5 8; do
		mkdir -p "$FL_TMP/man/man$s"
		ln -s "$FL_SOURCE"/man/*."$s" "$FL_TMP/man/man$s/"
	done
	out=$(cd "$FL_TMP/units" && MANPATH=$FL_TMP/man systemd-analyze verify ./*.service 2>&1) ||
		fl_fail "systemd-analyze verify rejects the units: $out"
	[[ -z $out ]] || fl_fail "systemd-analyze verify warns about the units: $out"
	fl_log "ok: systemd units pass systemd-analyze verify"
else
	fl_fail "systemd-analyze not found (apt-get install systemd)"
fi
