#!/usr/bin/env bash
# gen_certs.sh DIR - a throwaway PKI for the TLS and signing tests (EC P-256, as in
# /work/shared/notes/testbed-recipe.md "nng 1.5.2 TLS"):
#   ca.crt           the deployment's CA
#   server.crt/.key  the collector: SAN DNS:collector, IP:127.0.0.1, serverAuth
#   client.crt/.key  an agent signed by ca (clientAuth); client.pem = cert + key in one file
#   other-ca.crt     an unrelated CA; other-client.crt/.key an agent signed by it
#   host-a.key/.pub, host-b.key/.pub   report-signing key pairs (PEM, EC P-256)
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
K=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
q() { "$@" >/dev/null 2>&1 || { echo "gen_certs.sh: failed: $*" >&2; exit 1; }; }

q openssl req -x509 "${K[@]}" -keyout ca.key -out ca.crt -days 2 -subj /CN=fl-test-ca
q openssl req -x509 "${K[@]}" -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=fl-other-ca

issue() { # name ca subject extensions
	q openssl req "${K[@]}" -keyout "$1.key" -out "$1.csr" -subj "$3"
	q openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
		-out "$1.crt" -days 2 -extfile <(printf '%s' "$4")
}
issue server ca /CN=collector \
	"$(printf 'subjectAltName=DNS:collector,IP:127.0.0.1\nextendedKeyUsage=serverAuth')"
issue client ca /CN=agent-app1 "extendedKeyUsage=clientAuth"
issue other-client other-ca /CN=agent-evil "extendedKeyUsage=clientAuth"
cat client.crt client.key >client.pem

for h in host-a host-b; do
	q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$h.key"
	q openssl pkey -in "$h.key" -pubout -out "$h.pub"
done
chmod 600 ./*.key client.pem
