// secure.c - see secure.h.

#include "secure.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/sign.h"
#include "fl/tls.h"
#include "fl/wire.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char         ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], server_name[256];
	fl_sign_key *sign; // NULL: reports go out unsigned
} cur;

int
agent_secure_install(const agent_config *cfg, char *err, size_t errlen)
{
	fl_sign_key *k = NULL;

	if (cfg->sign_key[0] != '\0' && fl_sign_key_load(cfg->sign_key, &k, err, errlen) != 0) {
		return -1;
	}
	pthread_mutex_lock(&mu);
	fl_sign_key_free(cur.sign);
	cur.sign = k;
	snprintf(cur.ca, sizeof(cur.ca), "%s", cfg->tls_ca);
	snprintf(cur.cert, sizeof(cur.cert), "%s", cfg->tls_cert);
	snprintf(cur.key, sizeof(cur.key), "%s", cfg->tls_key);
	snprintf(cur.server_name, sizeof(cur.server_name), "%s", cfg->tls_server_name);
	pthread_mutex_unlock(&mu);
	return 0;
}

void
agent_secure_clear(void)
{
	pthread_mutex_lock(&mu);
	fl_sign_key_free(cur.sign);
	memset(&cur, 0, sizeof(cur));
	pthread_mutex_unlock(&mu);
}

int
agent_secure_dial(nng_socket s, const char *url, nng_dialer *d, char *err, size_t errlen)
{
	nng_dialer dl;
	char       why[512];
	int        rv;

	if ((rv = nng_dialer_create(&dl, s, url)) != 0) {
		snprintf(err, errlen, "cannot dial collector %s: %s", url, nng_strerror(rv));
		return -1;
	}
	if (fl_tls_url(url)) {
		pthread_mutex_lock(&mu);
		fl_tls_opts o = { .ca_file = cur.ca,
			.cert_file         = cur.cert,
			.key_file          = cur.key[0] != '\0' ? cur.key : NULL };
		rv            = fl_tls_apply_dialer(dl, &o, cur.server_name, why, sizeof(why));
		pthread_mutex_unlock(&mu);
		if (rv != 0) {
			snprintf(err, errlen, "cannot dial collector %s: %s", url, why);
			nng_dialer_close(dl);
			return -1;
		}
	}
	if ((rv = nng_dialer_start(dl, NNG_FLAG_NONBLOCK)) != 0) {
		snprintf(err, errlen, "cannot dial collector %s: %s", url, nng_strerror(rv));
		nng_dialer_close(dl);
		return -1;
	}
	if (d != NULL) {
		*d = dl;
	}
	return 0;
}

// Wraps len bytes of packed Report into a packed Envelope signed with k.
static int
envelope(fl_sign_key *k, const char *host, const void *report, size_t len, nng_msg **out)
{
	Fl__Envelope env = FL__ENVELOPE__INIT;
	uint8_t      sig[FL_SIGN_MAX_SIG];
	size_t       siglen;
	int          rv;

	if ((rv = fl_sign(k, report, len, sig, &siglen)) != 0) {
		return rv;
	}
	// protobuf-c's fields are not const; packing only reads them.
	env.report.data    = (uint8_t *) report;
	env.report.len     = len;
	env.signature.data = sig;
	env.signature.len  = siglen;
	env.key_id         = (char *) host;
	return fl_wire_encode(&env.base, out);
}

int
agent_secure_seal(const char *host, nng_msg **msg)
{
	nng_msg *sealed = NULL;
	int      rv     = 0;

	pthread_mutex_lock(&mu);
	if (cur.sign != NULL) {
		rv = envelope(cur.sign, host, nng_msg_body(*msg), nng_msg_len(*msg), &sealed);
	}
	pthread_mutex_unlock(&mu);
	if (rv == 0 && sealed != NULL) {
		nng_msg_free(*msg);
		*msg = sealed;
	}
	return rv;
}

int
agent_secure_sign_report(const char *host, const Fl__Report *r, uint8_t **env, size_t *len)
{
	nng_msg *m  = NULL;
	int      rv = 0;

	*env = NULL;
	*len = 0;
	pthread_mutex_lock(&mu);
	if (cur.sign != NULL) {
		rv = fl_sign_report(cur.sign, host, r, &m);
	}
	pthread_mutex_unlock(&mu);
	if (rv != 0 || m == NULL) {
		return rv;
	}
	if ((*env = malloc(nng_msg_len(m) > 0 ? nng_msg_len(m) : 1)) == NULL) {
		nng_msg_free(m);
		return NNG_ENOMEM;
	}
	memcpy(*env, nng_msg_body(m), nng_msg_len(m));
	*len = nng_msg_len(m);
	nng_msg_free(m);
	return 0;
}
