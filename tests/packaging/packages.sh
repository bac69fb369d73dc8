#!/usr/bin/env bash
# packages.sh - the Debian packages build, pass lintian, install, work, and purge cleanly.
#
# From a copy of the source tree (dpkg-buildpackage writes into it and into its parent):
#   1. dpkg-buildpackage -b (a Release build without tests or benchmarks: debian/rules);
#   2. lintian --pedantic fails on any tag, whatever its severity (overrides must say why);
#   3. apt-get install ./*.deb: the system users exist, `systemd-analyze verify` accepts the
#      installed units, faultline-agent/-collector --check-config accept the installed
#      conffiles when run as their own users, `faultline --version` is the package version,
#      and the manuals and completions are where man and bash-completion look;
#   4. apt-get purge: every file the packages held, /etc/faultline, the state directories and
#      the systemd enablement links are gone, and no path named *faultline* is left under
#      /etc, /usr, /lib or /var. The system users stay (debian/*.postrm says why).
# Needs root (it installs packages). Environment: FL_PKG_KEEP=1 keeps the built .debs.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

PKGS=(faultline-agent faultline-collector faultline-cli)
# The installed agent must find its own modules, not those of the build tree ctest names.
unset FAULTLINE_AGENT_MODULE_DIR

fl_init --no-binaries
[[ $(id -u) -eq 0 ]] || fl_fail "needs root: it installs and purges the packages"
for b in dpkg-buildpackage dh lintian apt-get systemd-analyze systemd-sysusers man; do
	command -v "$b" >/dev/null || fl_fail "$b not found: run scripts/install-deps.sh as root"
done

apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 "$@"
}

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }

# A previous run that died half-way may have left them installed: start from nothing.
for p in "${PKGS[@]}"; do
	if dpkg-query -W "$p" >/dev/null 2>&1; then
		fl_log "purging $p left by an earlier run"
		apt_get purge "${PKGS[@]}" >"$FL_TMP/purge-before.log" 2>&1 || true
		break
	fi
done

fl_test_cleanup() {
	if [[ ${PURGED:-1} != 1 ]]; then
		apt_get purge "${PKGS[@]}" >/dev/null 2>&1 || true
	fi
	if [[ ${MADE_RUN_DIR:-0} == 1 ]]; then
		rm -rf /run/faultline
	fi
}

# --- 1. build -------------------------------------------------------------------------------
mkdir -p "$FL_TMP/src"
if git -C "$FL_SOURCE" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and new files alike (a working tree under test), never build trees.
	(cd "$FL_SOURCE" && git ls-files -z -co --exclude-standard | tar --null -cf - -T -) |
		tar -xf - -C "$FL_TMP/src"
else
	tar -C "$FL_SOURCE" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$FL_TMP/src"
fi
version=$(cd "$FL_TMP/src" && dpkg-parsechangelog -S Version)
fl_log "building $version (dpkg-buildpackage -b; log: dpkg-buildpackage.log)"
start=$SECONDS
(cd "$FL_TMP/src" && DEB_BUILD_OPTIONS="noddebs parallel=${FL_JOBS:-2}" \
	dpkg-buildpackage -us -uc -b) >"$FL_TMP/dpkg-buildpackage.log" 2>&1 ||
	fl_fail "dpkg-buildpackage failed"
fl_log "built in $((SECONDS - start))s"
debs=()
for p in "${PKGS[@]}"; do
	f=$FL_TMP/${p}_${version}_$(dpkg --print-architecture).deb
	[[ -f $f ]] || fl_fail "$f was not built"
	debs+=("$f")
done

# The CMake project and the package agree on the version.
cmake_version=$(sed -n 's/^project(faultline VERSION \([0-9.]*\).*/\1/p' "$FL_SOURCE/CMakeLists.txt")
assert_eq "debian/changelog's version is the CMake project's" "$cmake_version" "${version%%-*}"

# --- 2. lintian -------------------------------------------------------------------------------
# (stderr only says that root runs it; the tags are on stdout.)
if ! out=$(lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
	"$FL_TMP/faultline_${version}_$(dpkg --print-architecture).changes" 2>"$FL_TMP/lintian.err"); then
	fl_fail "lintian reports tags (fix them, or override in debian/*.lintian-overrides with a
comment saying why):
$out"
fi
fl_log "ok: lintian --pedantic reports nothing${out:+ (output: $out)}"

# Dependencies come from dpkg-shlibdeps: the libraries each program really links.
assert_jq "faultline-agent depends on libpq and libmariadb, the collector on libsqlite3" \
	"$(jq -n --arg a "$(dpkg-deb -f "${debs[0]}" Depends)" --arg c "$(dpkg-deb -f "${debs[1]}" Depends)" \
		--arg l "$(dpkg-deb -f "${debs[2]}" Depends)" '{a: $a, c: $c, l: $l}')" \
	'(.a | test("libpq5") and test("libmariadb3") and test("libcurl4"))
	 and (.c | test("libsqlite3")) and (.l | test("libpq5|libsqlite3") | not)'

# --- 3. install -------------------------------------------------------------------------------
PURGED=0
apt_get install "${debs[@]}" >"$FL_TMP/apt-install.log" 2>&1 || fl_fail "apt-get install failed"
for p in "${PKGS[@]}"; do
	installed "$p" || fl_fail "$p is not installed after apt-get install"
done
fl_log "ok: apt-get install ./*.deb installed ${PKGS[*]}"

for u in faultline faultline-agent; do
	shell=$(getent passwd "$u" | cut -d: -f7) || fl_fail "system user $u was not created"
	assert_eq "system user $u has no login shell" /usr/sbin/nologin "$shell"
done
getent group faultline >/dev/null || fl_fail "group faultline (CLI access) was not created"

units=(/lib/systemd/system/faultline-agent.service /lib/systemd/system/faultline-collector.service)
out=$(systemd-analyze verify "${units[@]}" 2>&1) || fl_fail "systemd-analyze verify: $out"
[[ -z $out ]] || fl_fail "systemd-analyze verify warns about the installed units: $out"
fl_log "ok: systemd-analyze verify accepts the installed units"
grep -q '^Documentation=man:faultline-agent(8)' "${units[0]}" ||
	fl_fail "the agent unit does not point at its manual"
[[ -L /etc/systemd/system/multi-user.target.wants/faultline-collector.service ]] ||
	fl_fail "faultline-collector.service was not enabled"

# The installed conffiles as the services read them: default path, the services' own users.
out=$(runuser -u faultline-agent -- faultline-agent --check-config 2>&1) ||
	fl_fail "faultline-agent --check-config rejects the installed conffile: $out"
assert_eq "faultline-agent --check-config on the installed conffile" \
	"/etc/faultline/agent.conf: ok" "$out"
out=$(runuser -u faultline -- faultline-collector --check-config 2>&1) ||
	fl_fail "faultline-collector --check-config rejects the installed conffile: $out"
assert_eq "faultline-collector --check-config on the installed conffile" \
	"/etc/faultline/collector.conf: ok" "$out"
# conf.d: the package ships the directory empty, and the installed agent.conf includes it.
[[ -d /etc/faultline/agent.conf.d ]] && [[ -z $(ls -A /etc/faultline/agent.conf.d) ]] ||
	fl_fail "/etc/faultline/agent.conf.d is not shipped as an empty directory"
printf '[tcp "dropped"]\naddress = nohost\n' >/etc/faultline/agent.conf.d/10-dropped.conf
out=$(runuser -u faultline-agent -- faultline-agent --check-config 2>&1) && rc=0 || rc=$?
rm -f /etc/faultline/agent.conf.d/10-dropped.conf
assert_eq "the installed agent.conf reads a file dropped in agent.conf.d" \
	"2 /etc/faultline/agent.conf.d/10-dropped.conf:2: [tcp \"dropped\"] address: must be HOST:PORT or [IPv6]:PORT, port 1-65535" \
	"$rc $out"
# The database probe modules: shipped in /usr/lib/faultline, where the installed agent (no
# RUNPATH: the build tree's is stripped) finds them when a database probe is configured.
for m in faultline-agent-pgsql.so faultline-agent-mysql.so; do
	dpkg -L faultline-agent | grep -qx "/usr/lib/faultline/$m" || fl_fail "faultline-agent lacks /usr/lib/faultline/$m"
done
! readelf -d /usr/bin/faultline-agent | grep -q 'R.*PATH' || fl_fail "the installed agent has a RUNPATH"
printf '[postgres "pg"]\nconninfo = host=127.0.0.1 dbname=x user=x\n[mysql "my"]\nhost = 127.0.0.1\nuser = x\n' \
	>/etc/faultline/agent.conf.d/10-db.conf
out=$(runuser -u faultline-agent -- faultline-agent --check-config 2>&1) && rc=0 || rc=$?
rm -f /etc/faultline/agent.conf.d/10-db.conf
assert_eq "the installed agent loads its database probe modules from /usr/lib/faultline" \
	"0 /etc/faultline/agent.conf: ok" "$rc $out"
assert_eq "faultline --version" "faultline $version" "$(faultline --version)"
for p in faultline-agent faultline-collector; do
	dpkg-query -W -f='${Conffiles}\n' "$p" | grep -q "/etc/faultline/${p#faultline-}.conf" ||
		fl_fail "/etc/faultline/${p#faultline-}.conf is not a conffile of $p"
done

for page in faultline.1 faultline-agent.8 faultline-collector.8 faultline-agent.conf.5 \
	faultline-collector.conf.5 faultline.expect.5; do
	man -w "${page%.*}" >/dev/null 2>&1 || fl_fail "man cannot find ${page%.*}(${page##*.})"
done
for c in faultline faultline-agent faultline-collector; do
	[[ -f /usr/share/bash-completion/completions/$c ]] || fl_fail "no bash completion for $c"
done
fl_log "ok: manuals and completions installed"

# Where systemd runs (a CI VM, not a container), the postinst started both services.
if [[ -d /run/systemd/system ]]; then
	wait_for "faultline-collector.service active" 20 systemctl is-active faultline-collector
	wait_for "faultline-agent.service active" 20 systemctl is-active faultline-agent
	wait_for "faultline status answers as root" 20 faultline status
	fl_log "ok: both services run under systemd"
else
	# No systemd (a container): do what the units do by hand. The directories their
	# StateDirectory=/RuntimeDirectory= would create, then both daemons as their users on the
	# installed conffiles (report and survey ports moved to free ones), and the CLI as root on
	# its default control socket. This also leaves state behind for the purge to remove.
	[[ ! -e /run/faultline ]] || fl_fail "/run/faultline exists: is a collector running here?"
	MADE_RUN_DIR=1
	install -d -o faultline -g faultline -m 0750 /var/lib/faultline /run/faultline
	install -d -o faultline-agent -g faultline-agent -m 0750 /var/lib/faultline-agent
	report=tcp://127.0.0.1:$(fl_free_port) survey=tcp://127.0.0.1:$(fl_free_port)
	# setpriv execs the daemon itself (runuser would stay in between), so that stopping
	# the process started is stopping the daemon.
	fl_start collector setpriv --reuid faultline --regid faultline --init-groups \
		faultline-collector --listen "$report" \
		--survey "$survey"
	sed -e "s|^collector = .*|collector = $report|" -e "s|^survey = .*|survey = $survey|" \
		/etc/faultline/agent.conf >"$FL_TMP/agent.conf"
	chmod 644 "$FL_TMP/agent.conf"
	fl_start agent setpriv --reuid faultline-agent --regid faultline-agent --init-groups \
		faultline-agent -c "$FL_TMP/agent.conf"
	host_seen() { faultline hosts --json | jq -e --arg h "$(hostname)" '.hosts[0].host == $h'; }
	wait_for "the installed agent reports to the installed collector" 20 host_seen
	[[ -s /var/lib/faultline/collector.db ]] || fl_fail "no state in /var/lib/faultline"
	[[ $(stat -c %U /var/lib/faultline/collector.db) == faultline ]] ||
		fl_fail "the collector's state is not owned by faultline"
	fl_stop agent
	fl_stop collector
	! pgrep -u faultline,faultline-agent >/dev/null || fl_fail "a daemon survived its stop"
	rm -rf /run/faultline # systemd removes the RuntimeDirectory when the service stops
	MADE_RUN_DIR=0
	fl_log "ok: the installed daemons run as their users on the installed conffiles"
fi
[[ -d /var/lib/faultline && -d /var/lib/faultline-agent ]] || fl_fail "no state directories"

# --- 4. purge --------------------------------------------------------------------------------
mapfile -t owned < <(dpkg -L "${PKGS[@]}" | sort -u)
apt_get purge "${PKGS[@]}" >"$FL_TMP/apt-purge.log" 2>&1 || fl_fail "apt-get purge failed"
PURGED=1
for p in "${PKGS[@]}"; do
	! dpkg-query -W "$p" >/dev/null 2>&1 || fl_fail "$p is still known to dpkg after purge"
done
left=()
for f in "${owned[@]}"; do
	# Directories shared with the system (/usr/bin, /etc, ...) stay, of course.
	[[ -e $f && ! -d $f ]] && left+=("$f")
done
[[ ${#left[@]} -eq 0 ]] || fl_fail "files of the packages left after purge: ${left[*]}"
# (/var/cache/man: man-db's formatted pages, which its own mandb run prunes; /var/log: apt's
# logs name the packages.)
left=$(find /etc /usr /lib /var -xdev -name '*faultline*' -not -path '/var/tmp/*' \
	-not -path '/var/log/*' -not -path '/var/cache/man/*' 2>/dev/null | sort)
[[ -z $left ]] || fl_fail "left after purge: $left"
fl_log "ok: purge left no file of the packages and no path named *faultline*"
for u in faultline faultline-agent; do
	getent passwd "$u" >/dev/null || fl_fail "system user $u was removed (policy: kept)"
done
fl_log "ok: the system users faultline and faultline-agent are kept, by design"

if [[ ${FL_PKG_KEEP:-0} == 1 ]]; then
	mkdir -p "$FL_BUILD/debs" && cp "${debs[@]}" "$FL_BUILD/debs/"
	fl_log "kept the packages in $FL_BUILD/debs"
fi
