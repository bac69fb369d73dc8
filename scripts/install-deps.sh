#!/usr/bin/env bash
# install-deps.sh - installs every Debian 12 package Faultline needs to build, test and demo.
#
# Idempotent: when every package is already installed it does nothing (no network needed);
# FL_FORCE_APT=1 runs apt-get anyway. Must run as root. System database services are never
# started: a policy-rc.d that forbids service starts is put in place for the install when the
# image does not already have one, and removed afterwards.
set -euo pipefail

PACKAGES=(
	# build
	build-essential cmake pkg-config clang-format
	libnng-dev libmbedtls-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler
	libpq-dev default-libmysqlclient-dev libcurl4-openssl-dev libsqlite3-dev
	# tests
	libcmocka-dev clang-14 libclang-rt-14-dev libnetfilter-queue-dev
	postgresql-15 mariadb-server mariadb-client
	python3 python3-cryptography jq curl sqlite3 tmux iproute2 nftables iptables procps psmisc openssl
	ca-certificates systemd
	# /metrics: promtool and a real Prometheus (collector_http_test, integration_prometheus)
	prometheus
	# packages, manuals, completion, pipeline examples (tests/packaging, tests/docs)
	debhelper lintian mandoc man-db bash-completion python3-yaml
	# alert notifications (tests/collector/notify_alertmanager_test.sh)
	prometheus-alertmanager
	# the incident page in a real browser (integration_web_page)
	chromium chromium-driver python3-selenium
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done

if [[ ${#missing[@]} -eq 0 && "${FL_FORCE_APT:-0}" != 1 ]]; then
	echo "install-deps: all ${#PACKAGES[@]} packages already installed"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: cannot install ${missing[*]}: run as root (as another user: sudo bash scripts/install-deps.sh)" >&2
	exit 2
fi

# Keep apt from starting postgresql/mariadb system services: the tests and the demo run their
# own servers in temp dirs, on their own ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\n# faultline install-deps: no service starts during package install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	created_policy=1
fi
cleanup() {
	if [[ $created_policy == 1 ]]; then
		rm -f "$policy"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]:-${PACKAGES[*]}}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
echo "install-deps: done"
