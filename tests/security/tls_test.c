// tls_test.c - mutual TLS between a PUSH dialer (agent) and a PULL listener (collector) over
// real tls+tcp:// sockets on 127.0.0.1, with a throwaway PKI made by gen_certs.sh.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/tls/tls.h>

#include "fl/tls.h"

static char pki[64];

static const char *
pki_file(const char *name)
{
	static char buf[32][256]; // a ring: each test uses at most a dozen at once
	static int  i;
	i = (i + 1) % 32;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", pki, name);
	return buf[i];
}

static int
setup_pki(void **state)
{
	char cmd[512];
	(void) state;
	snprintf(pki, sizeof(pki), "/tmp/fl-tls-test-XXXXXX");
	if (mkdtemp(pki) == NULL) {
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "bash %s/gen_certs.sh %s", FL_SECURITY_DIR, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make test certificates (needs openssl): %s\n", cmd);
		return -1;
	}
	return 0;
}

static int
teardown_pki(void **state)
{
	char cmd[128];
	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	return system(cmd) == 0 ? 0 : -1;
}

// The collector's side: a PULL socket listening with TLS on an ephemeral port.
typedef struct server {
	nng_socket   s;
	nng_listener l;
	char         url[64];
} server;

static void
server_start(server *srv)
{
	fl_tls_opts o = { pki_file("ca.crt"), pki_file("server.crt"), pki_file("server.key") };
	char        err[256] = "";
	int         port;

	assert_int_equal(nng_pull0_open(&srv->s), 0);
	assert_int_equal(nng_socket_set_ms(srv->s, NNG_OPT_RECVTIMEO, 300), 0);
	assert_int_equal(nng_listener_create(&srv->l, srv->s, "tls+tcp://127.0.0.1:0"), 0);
	int rv = fl_tls_apply_listener(srv->l, &o, err, sizeof(err));
	if (rv != 0) {
		fail_msg("fl_tls_apply_listener: %s", err);
	}
	assert_int_equal(nng_listener_start(srv->l, 0), 0);
	assert_int_equal(nng_listener_get_int(srv->l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	snprintf(srv->url, sizeof(srv->url), "tls+tcp://127.0.0.1:%d", port);
}

// Dials srv with o (NULL: a raw TLS config with a CA but no client certificate) and returns
// the result of a blocking start. On success, sends one message and checks the pipe state.
static int
client_dial(server *srv, const fl_tls_opts *o, const char *server_name, nng_socket *out, char *err)
{
	nng_socket c;
	nng_dialer d;
	int        rv;

	assert_int_equal(nng_push0_open(&c), 0);
	assert_int_equal(nng_socket_set_ms(c, NNG_OPT_SENDTIMEO, 1000), 0);
	assert_int_equal(nng_dialer_create(&d, c, srv->url), 0);
	if (o != NULL) {
		rv = fl_tls_apply_dialer(d, o, server_name, err, 256);
		if (rv != 0) {
			fail_msg("fl_tls_apply_dialer: %s", err);
		}
	} else {
		nng_tls_config *cfg;
		assert_int_equal(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT), 0);
		assert_int_equal(nng_tls_config_ca_file(cfg, pki_file("ca.crt")), 0);
		assert_int_equal(nng_tls_config_server_name(cfg, "collector"), 0);
		assert_int_equal(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg), 0);
		nng_tls_config_free(cfg);
	}
	rv   = nng_dialer_start(d, 0); // blocking: the handshake's outcome
	*out = c;
	return rv;
}

// nng_send() takes a non-const buffer (it does not write to it).
static int
send_str(nng_socket c, const char *s, int flags)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", s);
	return nng_send(c, buf, strlen(s) + 1, flags);
}

// Nothing reaches the collector: a receive times out.
static void
assert_nothing_received(server *srv)
{
	nng_msg *m  = NULL;
	int      rv = nng_recvmsg(srv->s, &m, 0);
	if (rv == 0) {
		nng_msg_free(m);
		fail_msg("the collector received a message from a peer it should have rejected");
	}
	assert_int_equal(rv, NNG_ETIMEDOUT);
}

static void
test_good_client_cert_message_arrives(void **state)
{
	server      srv;
	nng_socket  c;
	nng_msg    *m;
	char        err[256] = "";
	bool        verified = false;
	fl_tls_opts o = { pki_file("ca.crt"), pki_file("client.crt"), pki_file("client.key") };
	(void) state;

	server_start(&srv);
	assert_int_equal(client_dial(&srv, &o, "collector", &c, err), 0);
	assert_int_equal(send_str(c, "report", 0), 0);
	assert_int_equal(nng_recvmsg(srv.s, &m, 0), 0);
	assert_int_equal(nng_msg_len(m), 7);
	assert_string_equal(nng_msg_body(m), "report");
	assert_int_equal(
	    nng_pipe_get_bool(nng_msg_get_pipe(m), NNG_OPT_TLS_VERIFIED, &verified), 0);
	assert_true(verified); // the collector verified the agent's certificate
	nng_msg_free(m);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_combined_pem_works(void **state)
{
	server      srv;
	nng_socket  c;
	nng_msg    *m;
	char        err[256] = "";
	fl_tls_opts o        = { pki_file("ca.crt"), pki_file("client.pem"), NULL };
	(void) state;

	server_start(&srv);
	assert_int_equal(client_dial(&srv, &o, "collector", &c, err), 0);
	assert_int_equal(send_str(c, "x", 0), 0);
	assert_int_equal(nng_recvmsg(srv.s, &m, 0), 0);
	nng_msg_free(m);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_no_client_cert_rejected(void **state)
{
	server     srv;
	nng_socket c;
	char       err[256] = "";
	(void) state;

	server_start(&srv);
	int rv = client_dial(&srv, NULL, NULL, &c, err);
	assert_int_not_equal(rv, 0);
	assert_true(
	    rv == NNG_ECONNSHUT || rv == NNG_ECRYPTO || rv == NNG_ECLOSED || rv == NNG_EPEERAUTH);
	assert_int_equal(send_str(c, "spoof", NNG_FLAG_NONBLOCK), NNG_EAGAIN);
	assert_nothing_received(&srv);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_other_ca_client_rejected(void **state)
{
	server      srv;
	nng_socket  c;
	char        err[256] = "";
	fl_tls_opts o        = { pki_file("ca.crt"), pki_file("other-client.crt"),
		       pki_file("other-client.key") };
	(void) state;

	server_start(&srv);
	int rv = client_dial(&srv, &o, "collector", &c, err);
	assert_int_not_equal(rv, 0);
	assert_int_equal(send_str(c, "spoof", NNG_FLAG_NONBLOCK), NNG_EAGAIN);
	assert_nothing_received(&srv);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_wrong_server_name_rejected(void **state)
{
	server      srv;
	nng_socket  c;
	char        err[256] = "";
	fl_tls_opts o = { pki_file("ca.crt"), pki_file("client.crt"), pki_file("client.key") };
	(void) state;

	server_start(&srv);
	// The collector's certificate is valid, but not for this name: the agent must refuse it.
	assert_int_equal(client_dial(&srv, &o, "not-the-collector", &c, err), NNG_ECRYPTO);
	assert_nothing_received(&srv);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_server_from_other_ca_rejected(void **state)
{
	server      srv;
	nng_socket  c;
	char        err[256] = "";
	fl_tls_opts o        = { pki_file("other-ca.crt"), pki_file("client.crt"),
		       pki_file("client.key") };
	(void) state;

	server_start(&srv); // an impostor collector, from the agent's point of view
	assert_int_not_equal(client_dial(&srv, &o, "collector", &c, err), 0);
	assert_nothing_received(&srv);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_plain_tcp_client_gets_nothing_through(void **state)
{
	server     srv;
	nng_socket c;
	nng_dialer d;
	char       url[80];
	(void) state;

	server_start(&srv);
	snprintf(url, sizeof(url), "tcp://%s", srv.url + strlen("tls+tcp://"));
	assert_int_equal(nng_push0_open(&c), 0);
	assert_int_equal(nng_dialer_create(&d, c, url), 0);
	(void) nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	(void) send_str(c, "plain", NNG_FLAG_NONBLOCK);
	assert_nothing_received(&srv);
	nng_close(c);
	nng_close(srv.s);
}

static void
test_bad_files_named_in_error(void **state)
{
	nng_socket  s;
	nng_dialer  d;
	char        err[256] = "";
	fl_tls_opts missing  = { pki_file("ca.crt"), pki_file("nope.crt"), pki_file("client.key") };
	fl_tls_opts nokey    = { pki_file("ca.crt"), pki_file("client.crt"), NULL };
	fl_tls_opts mismatch = { pki_file("ca.crt"), pki_file("client.crt"),
		pki_file("server.key") };
	fl_tls_opts noca     = { NULL, pki_file("client.crt"), pki_file("client.key") };
	(void) state;

	assert_int_equal(nng_push0_open(&s), 0);
	assert_int_equal(nng_dialer_create(&d, s, "tls+tcp://127.0.0.1:1"), 0);

	assert_int_equal(
	    fl_tls_apply_dialer(d, &missing, "collector", err, sizeof(err)), NNG_ENOENT);
	assert_non_null(strstr(err, "nope.crt"));
	assert_int_not_equal(fl_tls_apply_dialer(d, &nokey, "collector", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "client.crt"));
	assert_int_not_equal(fl_tls_apply_dialer(d, &mismatch, "collector", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "server.key"));
	assert_int_equal(fl_tls_apply_dialer(d, &noca, "collector", err, sizeof(err)), NNG_EINVAL);
	assert_non_null(strstr(err, "ca_file"));

	fl_tls_opts good = { pki_file("ca.crt"), pki_file("client.crt"), pki_file("client.key") };
	assert_int_equal(fl_tls_apply_dialer(d, &good, NULL, err, sizeof(err)), NNG_EINVAL);
	assert_non_null(strstr(err, "server_name"));
	assert_int_equal(fl_tls_check(&good, err, sizeof(err)), 0);

	// A private key every local user can read is refused.
	assert_int_equal(chmod(pki_file("client.key"), 0644), 0);
	assert_int_equal(fl_tls_apply_dialer(d, &good, "collector", err, sizeof(err)), NNG_EPERM);
	assert_non_null(strstr(err, "client.key"));
	assert_int_equal(chmod(pki_file("client.key"), 0600), 0);
	assert_int_equal(fl_tls_apply_dialer(d, &good, "collector", err, sizeof(err)), 0);

	// A plain tcp:// dialer has no TLS to configure: that is a configuration error.
	nng_dialer plain;
	assert_int_equal(nng_dialer_create(&plain, s, "tcp://127.0.0.1:1"), 0);
	assert_int_not_equal(fl_tls_apply_dialer(plain, &good, "collector", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "tls+tcp"));
	nng_close(s);
}

// The one PEM reader of TLS and report signing: each caller's rule on who may read a key, the
// size bound, and a directory refused, each with the file named.
static void
test_pem_read_rules(void **state)
{
	(void) state;
	char        err[256];
	char       *pem = NULL;
	struct stat st;
	const char *key = pki_file("client.key");

	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(
	    fl_pem_read(key, FL_TLS_MAX_PEM, FL_PEM_PRIVATE_TO_HOST, &pem, &st, err, sizeof(err)),
	    0); // a group may read a TLS key (e.g. ssl-cert)
	assert_non_null(strstr(pem, "PRIVATE KEY"));
	assert_int_equal((size_t) st.st_size, strlen(pem));
	fl_pem_free_secret(pem);
	assert_int_equal(
	    fl_pem_read(key, FL_TLS_MAX_PEM, FL_PEM_PRIVATE_TO_OWNER, &pem, NULL, err, sizeof(err)),
	    NNG_EPERM); // a signing key is the owner's alone
	assert_non_null(strstr(err, "group or others may read it (chmod 600)"));
	assert_int_equal(chmod(key, 0604), 0);
	assert_int_equal(
	    fl_pem_read(key, FL_TLS_MAX_PEM, FL_PEM_PRIVATE_TO_HOST, &pem, NULL, err, sizeof(err)),
	    NNG_EPERM);
	assert_non_null(strstr(err, "readable by every user (chmod o-r)"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(fl_pem_read(key, 16, 0, &pem, NULL, err, sizeof(err)), NNG_EINVAL);
	assert_non_null(strstr(err, "client.key"));
	assert_non_null(strstr(err, "(1 to 16)"));
	assert_int_equal(
	    fl_pem_read(pki, FL_TLS_MAX_PEM, 0, &pem, NULL, err, sizeof(err)), NNG_EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(
	    fl_pem_read(pki_file("nope.pem"), FL_TLS_MAX_PEM, 0, &pem, NULL, err, sizeof(err)),
	    NNG_ENOENT);
	fl_pem_free_secret(NULL);
}

static void
test_url_detection(void **state)
{
	(void) state;
	assert_true(fl_tls_url("tls+tcp://collector:7600"));
	assert_true(fl_tls_url("tls+tcp6://[::1]:7600"));
	assert_false(fl_tls_url("tcp://127.0.0.1:7600"));
	assert_false(fl_tls_url("ipc:///run/faultline/control.sock"));
	assert_false(fl_tls_url(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_client_cert_message_arrives),
		cmocka_unit_test(test_combined_pem_works),
		cmocka_unit_test(test_no_client_cert_rejected),
		cmocka_unit_test(test_other_ca_client_rejected),
		cmocka_unit_test(test_wrong_server_name_rejected),
		cmocka_unit_test(test_server_from_other_ca_rejected),
		cmocka_unit_test(test_plain_tcp_client_gets_nothing_through),
		cmocka_unit_test(test_bad_files_named_in_error),
		cmocka_unit_test(test_pem_read_rules),
		cmocka_unit_test(test_url_detection),
	};
	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
